// Runs a wasm32-wasip1 command module in Node's WASI (V8, the engine
// Envoy embeds): `node scripts/lib/wasi-run.mjs MODULE [ARGS...]`.
// scripts/engine-v8.sh uses it for examples/engine_bench. The proxy-wasm
// host imports (`env`) are linked in the library but never called by the
// engine benchmark: each is a stub that throws if it ever is.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv } from 'node:process';

const wasi = new WASI({ version: 'preview1', args: argv.slice(2), env: {}, preopens: {} });
const module = await WebAssembly.compile(await readFile(argv[2]));
const env = {};
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.module === 'env') env[imp.name] = () => { throw new Error(`host call ${imp.name}`); };
}
const instance = await WebAssembly.instantiate(module, { ...wasi.getImportObject(), env });
// The module exports `_initialize` too (the library's reactor entry);
// WASI.start refuses a command module that has one.
const { _initialize, ...exports } = instance.exports;
wasi.start({ exports });
