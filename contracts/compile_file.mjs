// Compiles one generated Solidity file (e.g. EZKL's Verifier.sol) with the project's pinned solcjs
// and the project's EVM version; prints {contractName, abi, bytecode} of its first contract as JSON.
//   node contracts/compile_file.mjs Verifier.sol
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// ES module imports ignore NODE_PATH, which is how vcp points an installed wheel at the project's
// node_modules: so solc is required from NODE_PATH's folders, then from this script's own.
const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const paths = [...(process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean), HERE];
const solc = require(require.resolve('solc', { paths }));

const file = process.argv[2];
if (!file) {
  console.error('usage: compile_file.mjs FILE.sol');
  process.exit(2);
}
// The EVM version is named once, in evm.json beside this script (shipped in the wheel with it).
const EVM_VERSION = JSON.parse(fs.readFileSync(path.join(HERE, 'evm.json'), 'utf8')).evmVersion;
const input = {
  language: 'Solidity',
  sources: { [path.basename(file)]: { content: fs.readFileSync(file, 'utf8') } },
  // runs: 1 keeps generated verifiers (large, called rarely) under the 24 KiB code limit.
  settings: { evmVersion: EVM_VERSION, optimizer: { enabled: true, runs: 1 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'metadata'] } } },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const [name, c] = Object.entries(output.contracts[path.basename(file)])[0];
process.stdout.write(JSON.stringify({ contractName: name, compiler: solc.version(),
  evmVersion: JSON.parse(c.metadata).settings.evmVersion, abi: c.abi, bytecode: '0x' + c.evm.bytecode.object }));
