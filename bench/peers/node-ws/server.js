// The Node.js peer: the `ws` package doing what the floor does.
// POST /publish sends its body as one text frame to every socket on /ws;
// nothing is stored. Listens on 127.0.0.1 only, on PORT.
'use strict';
const http = require('node:http');
const { WebSocketServer, WebSocket } = require('ws');

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(body);
    }
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  });
});
const wss = new WebSocketServer({ server, path: '/ws' });
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`node ws relay on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
