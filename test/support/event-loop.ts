/**
 * The longest the event loop was held while `work` ran: between two ticks of a timer every `tickMs`,
 * the wall time, but no more than the CPU time the process used meanwhile. On a busy machine a tick can
 * come late because the process was not scheduled at all; that is not our code holding the loop, and
 * only the CPU time spent between the ticks is.
 */
export async function longestStall<T>(work: () => Promise<T>, tickMs = 5): Promise<{ result: T; stallMs: number; totalMs: number }> {
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  let stall = 0;
  const tick = () => {
    const wall = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    stall = Math.max(stall, Math.min(wall - lastWall, (cpu.user + cpu.system) / 1000));
    lastWall = wall;
    lastCpu = process.cpuUsage();
  };
  const timer = setInterval(tick, tickMs);
  const started = performance.now();
  try {
    const result = await work();
    tick();
    return { result, stallMs: stall, totalMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}
