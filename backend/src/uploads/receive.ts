// Receives the one file of an upload (multipart/form-data, field `file`) with busboy, as it
// streams in. The body is held in memory up to the size limit and no further: past it, reading
// stops at once and the upload is answered 413 (the connection then closes, see routes.ts), so
// an oversized body is never read to its end, let alone buffered. A Content-Length that already
// says "too large" is answered before a byte of the body is read.
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { tooLarge, validation } from '../http/errors.ts';

export interface ReceivedFile {
  /** The bytes as they came off the connection: joined only where a whole copy is needed. */
  chunks: Buffer[];
  size: number;
  /** The name the client gave, as sent (cleaned later; never a storage key). */
  filename: string | undefined;
}

/** A received file from bytes in hand (the host's own code, tests). */
export const receivedFile = (data: Buffer, filename?: string): ReceivedFile => ({ chunks: [data], size: data.length, filename });

/** The bytes in one buffer (a copy unless there is one chunk). */
export const joined = (file: ReceivedFile): Buffer => (file.chunks.length === 1 ? file.chunks[0]! : Buffer.concat(file.chunks, file.size));

/** At least the first `n` bytes (all of them when the file is shorter), copying no more than that. */
export function head(file: ReceivedFile, n: number): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  for (const c of file.chunks) {
    if (got >= n) break;
    parts.push(c);
    got += c.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
}

/** Room for the multipart framing around the file (boundaries, part headers, a few small fields). */
const FRAMING = 16 * 1024;

const tooLargeError = (maxBytes: number) => tooLarge(`Files may be at most ${maxBytes} bytes`, { maxBytes });

export function receiveFile(req: IncomingMessage, opts: { maxBytes: number }): Promise<ReceivedFile> {
  const { maxBytes } = opts;
  if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
    return Promise.reject(validation('Send the file as multipart/form-data, in a field named "file"'));
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + FRAMING) return Promise.reject(tooLargeError(maxBytes));

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // Browsers send file names as raw UTF-8.
      defParamCharset: 'utf8',
      limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 20 },
    });
  } catch {
    return Promise.reject(validation('Malformed multipart/form-data request (no boundary?)'));
  }

  return new Promise<ReceivedFile>((resolve, reject) => {
    let settled = false;
    interface Incoming {
      filename: string | undefined;
      chunks: Buffer[];
      size: number;
      ended: boolean;
    }
    let file: Incoming | null = null;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      // Stop reading: nothing more of this body is wanted.
      req.unpipe(parser);
      req.pause();
      reject(err);
    };
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || file) {
        stream.resume();
        return fail(validation(file ? 'One file per upload' : 'The file must be in a field named "file"'));
      }
      const f: Incoming = { filename: info.filename, chunks: [], size: 0, ended: false };
      file = f;
      stream.on('data', (chunk: Buffer) => {
        f.chunks.push(chunk);
        f.size += chunk.length;
      });
      stream.on('limit', () => fail(tooLargeError(maxBytes)));
      stream.on('end', () => (f.ended = true));
    });
    parser.on('filesLimit', () => fail(validation('One file per upload')));
    parser.on('partsLimit', () => fail(validation('Too many parts in the upload')));
    parser.on('fieldsLimit', () => fail(validation('Too many fields in the upload')));
    parser.on('error', () => fail(validation('Malformed multipart/form-data body')));
    parser.on('close', () => {
      if (settled) return;
      if (!file) return fail(validation('No file: send it in a field named "file"'));
      if (!file.ended) return fail(validation('The upload ended before the file did'));
      settled = true;
      resolve({ chunks: file.chunks, size: file.size, filename: file.filename });
    });
    req.on('aborted', () => fail(validation('The upload was aborted')));
    req.on('error', (err) => fail(err));
    req.pipe(parser);
  });
}
