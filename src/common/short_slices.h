#pragma once
// Short CPU time slices for the threads that others wait on.

namespace hera {

// Asks the kernel to give the calling thread short time slices (100 µs, EEVDF's custom slice,
// Linux 6.12 and later): when it wakes on a busy host it runs soon, ahead of CPU-bound job
// processes, instead of queueing behind them; its share of the CPU stays what it was. Threads
// and processes it creates start with the default slice again (reset-on-fork, which also resets
// a negative nice value to 0 in them). Keeps the thread's policy and nice value; does nothing on
// older kernels or if the thread runs under a real-time or idle policy. Returns whether the
// kernel took the request.
bool RequestShortSlices();

}  // namespace hera
