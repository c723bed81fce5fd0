/** Where the kit keeps data: `$TCK_DATA_DIR`, else `<kit>/data/cache`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kit's root directory (works from `src/` under tsx and from `dist/` once built). */
export const KIT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Root of downloaded, imported and extracted dataset files. */
export function dataDir(): string {
  return process.env.TCK_DATA_DIR ? path.resolve(process.env.TCK_DATA_DIR) : path.join(KIT_ROOT, 'data', 'cache');
}
