// Brotli (quality 11, as bench/anchor-sizes/measure.sh measures the peers) of each file given;
// prints a JSON array of byte counts. Text mode for JS, generic for everything else.
import { readFileSync } from "node:fs";
import zlib from "node:zlib";

const sizes = process.argv.slice(2).map((file) => {
  const buf = readFileSync(file);
  const text = /\.(m?js|css|html|json)$/.test(file);
  return zlib.brotliCompressSync(buf, { params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
    [zlib.constants.BROTLI_PARAM_MODE]: text ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
  } }).length;
});
console.log(JSON.stringify(sizes));
