// A real S3-compatible server for the S3 driver's tests: s3rver (an npm package) on port 0 over a
// temporary directory, with one bucket. Its default credentials are S3RVER / S3RVER.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The options of createFriendChat's `uploads.s3` (and the demo's S3_* settings). */
  options: { bucket: string; endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: true };
  close(): Promise<void>;
}

export async function startS3(bucket = 'fc-uploads'): Promise<TestS3> {
  const directory = mkdtempSync(path.join(tmpdir(), 'fc-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    options: { bucket, endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
