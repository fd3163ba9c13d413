// pyrometer-server entry point: parses flags, starts the server, waits for SIGTERM.
#include <cstdio>

int main(int argc, char** argv) {
  std::fprintf(stderr, "pyrometer-server: not yet implemented\n");
  return 1;
}
