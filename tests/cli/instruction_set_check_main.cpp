// The program of the instruction-set test: reaching main means the check let it through.

#include <cstdio>

int main() {
  std::puts("main ran: the start-up check let a CPU without the instruction set through");
  return 0;
}
