// Preloaded into the concurrency bench's worker (`node -r`): prints the process's memory every
// 10 s, so the bench can say where the worker's RSS goes (the main thread's JS heap, buffers, the
// rest: the workflow thread's heap, the SDK's Rust core, code).
const timer = setInterval(() => {
  const m = process.memoryUsage();
  const mib = (x) => Math.round(x / 1048576);
  console.log(
    `memory: ${JSON.stringify({ rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external) })}`,
  );
}, 10_000);
timer.unref();
