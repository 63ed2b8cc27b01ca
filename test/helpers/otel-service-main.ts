import { createOtelService } from './otel-service-app';

/** `IMPL=domain PORT=8201 node -r test/helpers/swc-register.js test/helpers/otel-service-main.ts` */
const impl = process.env.IMPL ?? 'legacy';
const port = Number(process.env.PORT ?? 0);
const server = createOtelService(impl);
server.listen(port, '127.0.0.1', () => console.log(`otel-service ${impl} listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  // The router keeps connections open: close them, or close() waits for them.
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
