/** Reading a request body, up to the size a portal takes (413 beyond). */
import type { IncomingMessage } from 'node:http';
import { PortalError } from './types.js';

const MAX_BODY = 32 * 1024 * 1024;

/** The whole body; rejects with 413 INVALID_REQUEST past 32 MiB. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new PortalError(413, 'INVALID_REQUEST', 'Request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
