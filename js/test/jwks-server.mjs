// A loopback JWKS server for tests: serves whatever `state.jwks` holds (or, for a path in
// `state.routes`, that document), counts requests (in all, and per path in `byPath`), and
// can answer slowly, with an error status, or with an endless stream (`streamBytes`: that many
// bytes in 64 KiB chunks without a length, counting in `sent` what it managed to write).
import { createServer } from 'node:http';

export async function startJwksServer() {
  const state = {
    jwks: { keys: [] }, routes: {}, byPath: {}, requests: 0, delayMs: 0, status: 200, body: undefined, lastHeaders: undefined,
    streamBytes: 0, sent: 0, declaredLength: undefined,
  };
  const server = createServer((req, res) => {
    state.requests++;
    state.byPath[req.url] = (state.byPath[req.url] ?? 0) + 1;
    state.lastHeaders = req.headers;
    if (state.routes[req.url] !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(state.routes[req.url]));
    }
    if (state.declaredLength !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(state.declaredLength) });
      res.write('{"keys":[');
      return; // never finishes: the client must refuse on the header alone
    }
    if (state.streamBytes > 0) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      state.sent = 0;
      let closed = false;
      res.on('close', () => { closed = true; });
      const pump = () => {
        while (!closed && state.sent < state.streamBytes) {
          state.sent += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        if (!closed) res.end();
      };
      return pump();
    }
    setTimeout(() => {
      res.writeHead(state.status, { 'content-type': 'application/json' });
      res.end(state.body ?? JSON.stringify(state.jwks));
    }, state.delayMs);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  return { state, url, close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }) };
}
