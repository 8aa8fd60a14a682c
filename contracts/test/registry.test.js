// Registry behaviour on an in-process ganache chain: registration, events, no overwrite,
// verification of an unregistered dataset refused. Proof verification is tested from Rust
// (crates/evm/tests), where the proofs are made.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const solc = require('solc');
const ganache = require('ganache');

const artifact = require('../out/TrustspaceRegistry.json');

test('out/ matches a fresh compile', () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', 'build.js'), '--check']);
});

// ABI encoding of static words and uint256[] arrays (all this test needs).
const word = (v) => BigInt(v).toString(16).padStart(64, '0');
function encode(args) {
  let head = '';
  let tail = '';
  const headLen = args.length * 32;
  for (const a of args) {
    if (Array.isArray(a)) {
      head += word(headLen + tail.length / 2);
      tail += word(a.length) + a.map(word).join('');
    } else {
      head += word(a);
    }
  }
  return head + tail;
}

function selectors() {
  const src = require('fs').readFileSync(path.join(__dirname, '..', 'src', 'TrustspaceRegistry.sol'), 'utf8');
  const iface = require('fs').readFileSync(path.join(__dirname, '..', 'src', 'IGroth16Verifier.sol'), 'utf8');
  const out = JSON.parse(solc.compile(JSON.stringify({
    language: 'Solidity',
    sources: { 'TrustspaceRegistry.sol': { content: src }, 'IGroth16Verifier.sol': { content: iface } },
    settings: { outputSelection: { '*': { '*': ['evm.methodIdentifiers'] } } },
  })));
  return out.contracts['TrustspaceRegistry.sol'].TrustspaceRegistry.evm.methodIdentifiers;
}

test('register, read, refuse re-registration and unregistered datasets', async () => {
  const sel = selectors();
  const provider = ganache.provider({ logging: { quiet: true }, chain: { hardfork: 'london' } });
  const [from] = await provider.request({ method: 'eth_accounts', params: [] });
  const send = async (to, data) => {
    const hash = await provider.request({ method: 'eth_sendTransaction', params: [{ from, to, data, gas: '0x7a1200' }] });
    return provider.request({ method: 'eth_getTransactionReceipt', params: [hash] });
  };
  const deploy = await send(undefined, artifact.bytecode);
  assert.strictEqual(deploy.status, '0x1');
  const registry = deploy.contractAddress;

  const root = 7n;
  const register = '0x' + sel['registerDataset(bytes32,bytes32,uint256,uint256,bytes32,uint256[])'] +
    encode([root, 0x5c4e3an, 3, 4, 0x11, [42]]);
  const first = await send(registry, register);
  assert.strictEqual(first.status, '0x1');
  assert.strictEqual(first.logs.length, 1, 'one DatasetRegistered event');
  console.log(`registerDataset gas: ${BigInt(first.gasUsed)}`);

  // Filed under the root with its owner: keccak256(abi.encode(root, owner)).
  const call = (data) => provider.request({ method: 'eth_call', params: [{ to: registry, data }, 'latest'] });
  const key = await call('0x' + sel['datasetKey(bytes32,address)'] + word(root) + word(from));
  const stored = await call('0x' + sel['datasets(bytes32)'] + key.slice(2));
  assert.strictEqual(BigInt('0x' + stored.slice(2, 66)), root);
  assert.strictEqual(BigInt('0x' + stored.slice(130, 194)), 3n, 'record count');
  assert.strictEqual(BigInt('0x' + stored.slice(386, 450)), BigInt(from), 'owner');
  const unkeyed = await call('0x' + sel['datasets(bytes32)'] + word(root));
  assert.strictEqual(BigInt('0x' + unkeyed.slice(2, 66)), 0n, 'nothing under the bare root');

  assert.strictEqual((await send(registry, register)).status, '0x0', 're-registration reverts');
  // Another account registering the same root (a front-runner) is filed under its own key and
  // does not block the owner (who registered first here).
  const [, other] = await provider.request({ method: 'eth_accounts', params: [] });
  const hash = await provider.request({
    method: 'eth_sendTransaction',
    params: [{ from: other, to: registry, data: register, gas: '0x7a1200' }],
  });
  const byOther = await provider.request({ method: 'eth_getTransactionReceipt', params: [hash] });
  assert.strictEqual(byOther.status, '0x1', 'another owner files the same root under its own key');
  const chunkRootsMismatch = '0x' + sel['registerDataset(bytes32,bytes32,uint256,uint256,bytes32,uint256[])'] +
    encode([8n, 1, 9, 4, 0, [1]]);
  assert.strictEqual((await send(registry, chunkRootsMismatch)).status, '0x0', 'chunk-root count must match');
  await provider.disconnect();
});
