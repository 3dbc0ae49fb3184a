/**
 * A minimal Lambda runtime for a bundled API handler, run as `node --input-type=module -e` with
 * `BUNDLE_URL` set: API Gateway (HTTP API, payload v2) in front of `handler`, each HTTP request one
 * invocation. It prints `listening <port>` once it answers.
 */
export const LAMBDA_EMULATOR = `
import { createServer } from 'node:http';
const { handler } = await import(process.env.BUNDLE_URL);
let n = 0;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', async () => {
    const url = new URL(req.url, 'http://lambda');
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const query = Object.fromEntries(url.searchParams);
    const event = {
      version: '2.0', routeKey: '$default', rawPath: url.pathname, rawQueryString: url.search.slice(1),
      headers, ...(url.search === '' ? {} : { queryStringParameters: query }),
      requestContext: { http: { method: req.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
        requestId: 'r' + n, routeKey: '$default', stage: '$default', timeEpoch: Date.now(), accountId: '123456789012', apiId: 'api', domainName: 'lambda', domainPrefix: 'lambda', time: '' },
      isBase64Encoded: false, ...(body === '' ? {} : { body }),
    };
    const context = { functionName: 'copilot-api', awsRequestId: 'req-' + n++, getRemainingTimeInMillis: () => 29000 };
    const r = await handler(event, context);
    res.writeHead(r.statusCode, r.headers);
    res.end(r.body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;
