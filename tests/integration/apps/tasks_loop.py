"""Two event loops in two threads with known numbers of waiting tasks: the task-count gauge
must report each loop on its own series."""

import asyncio
import threading

started = threading.Barrier(2)


async def hold(waiters: int) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(stop.wait()) for _ in range(waiters)]
    started.wait()  # both loops hold their tasks for the same window
    await asyncio.sleep(2.5)  # the heartbeat counts once a second; metrics export every second
    stop.set()
    await asyncio.gather(*tasks)


side = threading.Thread(target=lambda: asyncio.run(hold(2)), name="side-loop")
side.start()
asyncio.run(hold(5))
side.join()
print("done")
