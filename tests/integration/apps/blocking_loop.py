"""A script whose coroutine blocks its event loop: the loop-lag probe must see it."""

import asyncio
import time


async def main() -> None:
    for _ in range(3):
        await asyncio.sleep(0.3)
        time.sleep(0.4)  # blocks the loop: the heartbeat runs late
    await asyncio.sleep(1.5)  # let the probe report; metrics export every second here


asyncio.run(main())
print("done")
