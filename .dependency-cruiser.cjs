// The design's arrows (the design's "Arrows point down only"), checked in `npm test`:
//   extension, cli, language → core; webview → protocol only; core → nothing above it; no circles.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other (types included) cannot be understood, tested or moved one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-without-vscode',
      severity: 'error',
      comment: 'src/core is the engine the CLI runs headless: it never imports vscode.',
      from: { path: '^src/core/' },
      to: { path: '^(vscode|node_modules/@types/vscode/.*)$' },
    },
    {
      name: 'core-below-front-ends',
      severity: 'error',
      comment: 'src/core never imports the front ends above it (extension, cli, language).',
      from: { path: '^src/core/' },
      to: { path: '^src/(extension|cli|language)/' },
    },
    {
      name: 'webview-through-protocol',
      severity: 'error',
      comment: 'Webviews talk to the extension only through the typed messages of src/protocol.',
      from: { path: '^webview/' },
      to: { path: '^src/', pathNot: '^src/protocol/' },
    },
    {
      name: 'language-over-core',
      severity: 'error',
      comment: 'The mlops.yaml language server is its own process outside VS Code: src/language imports core only, never vscode, the extension or the CLI.',
      from: { path: '^src/language/' },
      to: { path: '^(vscode|node_modules/@types/vscode/.*|src/(extension|cli)/.*)$' },
    },
  ],
  options: {
    // Our code, and vscode (resolved to its type package) so that the core rule can see it.
    includeOnly: '^(src/|webview/|node_modules/@types/vscode/)',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
