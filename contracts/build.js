#!/usr/bin/env node
// Compiles the contracts with the solc-js version pinned in package.json (offline: the compiler
// ships in the npm package). Usage:
//   node build.js            compile src/*.sol into out/<Contract>.json (abi + bytecode)
//   node build.js --check    fail if out/ differs from a fresh compile
//   node build.js --compile FILE.sol NAME
//                            compile one file (e.g. a verifier from `zkprove export-verifier`,
//                            next to a copy of IGroth16Verifier.sol or with src/ on the import
//                            path) and print NAME's {abi, bytecode} JSON on stdout
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const SRC = path.join(__dirname, 'src');
const OUT = path.join(__dirname, 'out');
// london: no PUSH0, so the bytecode also runs on chains that lag Ethereum (FISCO BCOS,
// ChainMaker and other EVM-compatible consortium chains).
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'london',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function compile(sources) {
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const findImports = (p) => {
    const f = path.join(SRC, path.basename(p));
    return fs.existsSync(f) ? { contents: fs.readFileSync(f, 'utf8') } : { error: `not found: ${p}` };
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) {
    throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  }
  return out;
}

function artifact(c) {
  return {
    compiler: `solc-js ${solc.version()}`,
    settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
    abi: c.abi,
    bytecode: '0x' + c.evm.bytecode.object,
    deployedBytecode: '0x' + c.evm.deployedBytecode.object,
  };
}

function buildAll() {
  const sources = {};
  for (const f of fs.readdirSync(SRC).filter((f) => f.endsWith('.sol')).sort()) {
    sources[f] = { content: fs.readFileSync(path.join(SRC, f), 'utf8') };
  }
  const out = compile(sources);
  const files = {};
  for (const f of Object.keys(out.contracts).sort()) {
    for (const [name, c] of Object.entries(out.contracts[f])) {
      files[`${name}.json`] = JSON.stringify(artifact(c), null, 2) + '\n';
    }
  }
  return files;
}

function main(args) {
  if (args[0] === '--compile') {
    const [file, name] = args.slice(1);
    if (!file || !name) throw new Error('usage: node build.js --compile FILE.sol NAME');
    const key = path.basename(file);
    const out = compile({ [key]: { content: fs.readFileSync(file, 'utf8') } });
    const c = out.contracts[key] && out.contracts[key][name];
    if (!c) throw new Error(`no contract ${name} in ${file}`);
    process.stdout.write(JSON.stringify(artifact(c)) + '\n');
    return;
  }
  const files = buildAll();
  if (args[0] === '--check') {
    const stale = [];
    for (const [f, text] of Object.entries(files)) {
      const p = path.join(OUT, f);
      if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text) stale.push(f);
    }
    if (stale.length) {
      throw new Error(`contracts/out is stale (${stale.join(', ')}): run \`npm --prefix contracts run build\``);
    }
    console.log(`contracts/out matches a fresh compile (${Object.keys(files).length} artifacts)`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(OUT, f), text);
  console.log(`wrote ${Object.keys(files).join(', ')} with solc-js ${solc.version()}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
