// The flowc extension: starts `flowc lsp` for .flow files (language id
// "flowc") and lets vscode-languageclient speak LSP to it.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('flowc');
  const command = config.get('path') || 'flowc';
  const serverOptions = {
    command,
    args: ['lsp'],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'flowc' }],
    // The server checks the workspace's files as one set and reads
    // applets and directory.json: tell it when they change on disk.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.flow,*.js,directory.json}'),
    },
  };
  client = new LanguageClient('flowc', 'flowc', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand('flowc.restartServer', () => client.restart()),
  );
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `flowc: could not start "${command} lsp" (${err.message}). Install flowc (go install ./cmd/flowc) or set flowc.path.`,
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
