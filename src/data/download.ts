/** Downloads a file over HTTP(S) to disk, atomically and with checksum verification. */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { DataError } from './types.js';

export interface DownloadOptions {
  sha256?: string;
  md5?: string;
  /** Called after each chunk; `total` is the Content-Length, or null if the server sent none. */
  onProgress?: (received: number, total: number | null) => void;
  /** Abort the whole download after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Dataset id, used in the "place the file yourself" hint of network errors. */
  id?: string;
}

/** The message of an error and of its `cause` chain (fetch puts the socket error in `cause`). */
function describe(e: unknown): string {
  const parts: string[] = [];
  for (let c = e as { message?: string; code?: string; cause?: unknown } | undefined; c && parts.length < 4; c = c.cause as typeof c) {
    parts.push([c.code, c.message].filter(Boolean).join(' '));
  }
  return parts.join(': ');
}

/**
 * Downloads `url` (following redirects) into `dest + '.partial'`, checks sha256/md5 when given, then
 * renames it to `dest`, so an interrupted download never leaves a file that looks complete.
 * Returns the final path, its sha256 and byte count.
 * Throws DataError naming the url on an HTTP error status, a network error or timeout (with a hint
 * that the machine may be offline and how to import the file by hand), or a checksum mismatch;
 * in every case the partial file is removed.
 */
export async function download(
  url: string,
  dest: string,
  opts: DownloadOptions = {},
): Promise<{ path: string; sha256: string; bytes: number }> {
  const where = opts.id ?? url;
  const partial = dest + '.partial';
  const offlineHint = `This machine may be offline; you can download the file elsewhere and place it yourself with \`tck data import ${opts.id ?? '<id>'} <file>\`.`;
  mkdirSync(dirname(dest), { recursive: true });
  const sha = createHash('sha256');
  const md5 = opts.md5 ? createHash('md5') : null;
  let bytes = 0;
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow', signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined });
    } catch (e) {
      throw new DataError(where, `download of ${url} failed: ${describe(e)}. ${offlineHint}`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new DataError(where, `download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trimEnd());
    }
    const lenHeader = res.headers.get('content-length');
    const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
    try {
      await pipeline(
        Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>),
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            sha.update(chunk);
            md5?.update(chunk);
            opts.onProgress?.(bytes, total);
            yield chunk;
          }
        },
        createWriteStream(partial),
      );
    } catch (e) {
      throw new DataError(where, `download of ${url} failed after ${bytes} bytes: ${describe(e)}. ${offlineHint}`);
    }
    if (total !== null && bytes !== total) {
      throw new DataError(where, `download of ${url} is incomplete: got ${bytes} of ${total} bytes. ${offlineHint}`);
    }
    const got = { sha256: sha.digest('hex'), md5: md5?.digest('hex') };
    for (const algo of ['sha256', 'md5'] as const) {
      const want = opts[algo]?.toLowerCase();
      if (want && want !== got[algo]) {
        throw new DataError(
          where,
          `checksum mismatch for ${url}: expected ${algo} ${want}, got ${got[algo]}. The server sent a corrupt file or a different version; the download was discarded.`,
        );
      }
    }
    renameSync(partial, dest);
    return { path: dest, sha256: got.sha256, bytes };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}
