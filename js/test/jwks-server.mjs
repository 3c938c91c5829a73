// A loopback JWKS server for tests: serves whatever `state.jwks` holds, counts requests, and
// can answer slowly or with an error status.
import { createServer } from 'node:http';

export async function startJwksServer() {
  const state = { jwks: { keys: [] }, requests: 0, delayMs: 0, status: 200, body: undefined, lastHeaders: undefined };
  const server = createServer((req, res) => {
    state.requests++;
    state.lastHeaders = req.headers;
    setTimeout(() => {
      res.writeHead(state.status, { 'content-type': 'application/json' });
      res.end(state.body ?? JSON.stringify(state.jwks));
    }, state.delayMs);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  return { state, url, close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }) };
}
