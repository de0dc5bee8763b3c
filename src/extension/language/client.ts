// The language client library, bundled on its own (dist/languageClient.js) and loaded when the
// first mlops.yaml opens: in the extension's bundle it was a quarter of what every window parses
// at activation, for a server most windows never start.
export { LanguageClient, TransportKind } from 'vscode-languageclient/node';
