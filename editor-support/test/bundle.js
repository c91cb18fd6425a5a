// The packaged entry point loads: dist/extension.js (what package.json's
// "main" names, built by `npm run build`) resolves its requires, with
// only the vscode module, which VS Code provides, stubbed, and exports
// activate and deactivate.
'use strict';
const Module = require('module');
const path = require('path');
const pkg = require('../package.json');

function stub(name) {
  const f = function () { return stub(name + '()'); };
  return new Proxy(f, {
    get: (_, p) => (p === 'then' ? undefined : stub(name + '.' + String(p))),
    construct: () => stub('new ' + name),
  });
}
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? stub('vscode') : load.call(this, request, ...rest);
};
const ext = require(path.join(__dirname, '..', pkg.main));
if (typeof ext.activate !== 'function' || typeof ext.deactivate !== 'function') {
  console.error(`${pkg.main} exports ${Object.keys(ext)}, not activate and deactivate`);
  process.exit(1);
}
console.log(`${pkg.main} loads and exports activate, deactivate`);
