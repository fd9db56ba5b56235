// Compiles contracts/src (and contracts/test) with the pinned solcjs and writes one JSON artifact
// per deployable contract to contracts/artifacts. `--check` compiles in memory and exits 1 if any
// committed artifact differs (stale) or is missing, without writing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'artifacts');
const SOURCE_DIRS = ['src', 'test'];
// The one place the EVM version is named (read by compile_file.mjs and by Python too), with the
// sources that need a newer one (evm.json's "exceptions": source -> evmVersion, e.g. BLOBHASH).
const EVM = JSON.parse(fs.readFileSync(path.join(HERE, 'evm.json'), 'utf8'));
export const EVM_VERSION = EVM.evmVersion;
const EXCEPTIONS = EVM.exceptions || {};
export const SETTINGS = {
  evmVersion: EVM_VERSION,
  optimizer: { enabled: true, runs: 10000 },
  outputSelection: { '*': { '': ['ast'], '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function readSources() {
  const sources = {};
  for (const dir of SOURCE_DIRS) {
    const full = path.join(HERE, dir);
    if (!fs.existsSync(full)) continue;
    for (const name of fs.readdirSync(full).sort()) {
      // *.t.sol are Foundry tests (forge compiles them, foundry.toml): no artifacts for them.
      if (name.endsWith('.sol') && !name.endsWith('.t.sol')) sources[`${dir}/${name}`] = { content: fs.readFileSync(path.join(full, name), 'utf8') };
    }
  }
  return sources;
}

function deployableKinds(ast) {
  const kinds = {};
  for (const node of ast.nodes) {
    if (node.nodeType === 'ContractDefinition') kinds[node.name] = node.contractKind === 'contract' && !node.abstract;
  }
  return kinds;
}

function solcOutput(sources, settings) {
  const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings })));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) console.error(e.formattedMessage);
  if (errors.length) process.exit(2);
  return output;
}

// Every source for EVM_VERSION but the exceptions; then, per exception, contracts/src again (its
// imports) for the exception's version, keeping only that source's contracts.
function compile() {
  const sources = readSources();
  const artifacts = {};
  const common = Object.fromEntries(Object.entries(sources).filter(([name]) => !(name in EXCEPTIONS)));
  addArtifacts(artifacts, solcOutput(common, SETTINGS), SETTINGS, () => true);
  for (const [source, evmVersion] of Object.entries(EXCEPTIONS)) {
    const settings = { ...SETTINGS, evmVersion };
    const src = Object.fromEntries(Object.entries(sources).filter(([name]) => name.startsWith('src/')));
    addArtifacts(artifacts, solcOutput(src, settings), settings, (name) => name === source);
  }
  return artifacts;
}

function addArtifacts(artifacts, output, settings, wanted) {
  for (const [sourceName, contracts] of Object.entries(output.contracts)) {
    if (!wanted(sourceName)) continue;
    const deployable = deployableKinds(output.sources[sourceName].ast);
    for (const [name, c] of Object.entries(contracts)) {
      if (!deployable[name]) continue;
      const file = path.join(sourceName.startsWith('test/') ? 'test' : '', `${name}.json`);
      const artifact = {
        contractName: name,
        sourceName: `contracts/${sourceName}`,
        compiler: { version: solc.version(), settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer } },
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      };
      artifacts[file] = JSON.stringify(artifact, null, 2) + '\n';
    }
  }
}

const check = process.argv.includes('--check');
const artifacts = compile();
let stale = 0;
for (const [file, text] of Object.entries(artifacts)) {
  const target = path.join(OUT, file);
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  if (current === text) continue;
  if (check) {
    console.error(`stale artifact: contracts/artifacts/${file} (run: make contracts)`);
    stale += 1;
  } else {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    console.log(`wrote contracts/artifacts/${file}`);
  }
}
if (check) {
  const expected = new Set(Object.keys(artifacts));
  for (const dir of ['', 'test']) {
    const full = path.join(OUT, dir);
    if (!fs.existsSync(full)) continue;
    for (const name of fs.readdirSync(full)) {
      const rel = path.join(dir, name);
      if (name.endsWith('.json') && !expected.has(rel)) {
        console.error(`orphan artifact: contracts/artifacts/${rel}`);
        stale += 1;
      }
    }
  }
  if (stale) process.exit(1);
  console.log(`${Object.keys(artifacts).length} artifacts up to date (solc ${solc.version()})`);
}
