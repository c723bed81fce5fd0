/**
 * `import()` for notebook cells. tslab compiles cells to CommonJS and turns `import()` into `require()`, which
 * cannot load ES modules that use top-level await (vega 6 and vega-lite 6 fail with ERR_REQUIRE_ASYNC_MODULE).
 * This function is part of the kit's real ES module, so its `import()` stays a dynamic import:
 *
 *   const vl = await esmImport<typeof import('vega-lite')>('vega-lite');
 *
 * Specifiers resolve from the kit's own location (its dependencies, or absolute file URLs).
 */
export function esmImport<T = any>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
