import type { TypeScript } from './tsloader.js';

/** How one file refers to another. */
export type EdgeKind = 'import' | 'export' | 'dynamic' | 'require' | 'reference' | 'import-equals' | 'import-type' | 'url' | 'css-import';

/** In cache order: a kind is stored as its index, so new kinds go at the end. */
export const EDGE_KINDS: readonly EdgeKind[] = ['import', 'export', 'dynamic', 'require', 'reference', 'import-equals', 'import-type', 'url', 'css-import'];

/** One module specifier found in a file. */
export interface Specifier {
  specifier: string;
  kind: EdgeKind;
  /** `import type`, `export type`, all-`type` named imports, `typeof import('…')`: erased at run time. */
  typeOnly: boolean;
}

export interface Extracted {
  specifiers: Specifier[];
  /** The first syntax error, `line:col message`; the specifiers found around it still count. */
  error?: string;
}

/** File extensions that are modules in the graph. */
export const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'] as const;
const GRAPH_EXTENSIONS = new Set<string>([...SOURCE_EXTENSIONS, '.json']);

/** The extension of a path or specifier, lower case (`.css`), or '' when it has none. */
export function extensionOf(p: string): string {
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  return dot > slash + 1 ? p.slice(dot).toLowerCase() : '';
}

/** A file the graph holds as a node: sources (with .d.ts) and JSON. */
export function isGraphFile(p: string): boolean {
  return GRAPH_EXTENSIONS.has(extensionOf(p));
}

/** A file whose imports are read (JSON files are leaves). */
export function isParsedFile(p: string): boolean {
  const ext = extensionOf(p);
  return ext !== '.json' && GRAPH_EXTENSIONS.has(ext);
}

/** A stylesheet whose `@import` rules are edges (read once some import names a .css file). */
export function isStylesheet(p: string): boolean {
  return extensionOf(p) === '.css';
}

/** `@import 'x'`, `@import "x"`, `@import url(x)` (quoted or not), whatever layer, supports or media follow. */
const CSS_IMPORT = /@import\s+(?:url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)|"([^"]*)"|'([^']*)')/gi;

/**
 * The `@import` rules of a stylesheet, outside comments. There is no syntax error to report:
 * CSS skips what it does not understand.
 */
export function extractStylesheetImports(text: string): Extracted {
  const specifiers: Specifier[] = [];
  for (const m of text.replace(/\/\*[\s\S]*?\*\//g, ' ').matchAll(CSS_IMPORT)) {
    const specifier = m.slice(1).find((group) => group !== undefined);
    if (specifier) specifiers.push({ specifier, kind: 'css-import', typeOnly: false });
  }
  return { specifiers };
}

/** Cheap pre-check: only files that may contain `import(`/`require(`/`new URL(` get the full-tree walk. */
const CALL_HINT = /\b(?:import|require)\s*\(|\bnew\s+URL\s*\(/;

/** `import.meta.url`. */
function isImportMetaUrl(ts: TypeScript, node: import('ts-morph').ts.Node | undefined): boolean {
  return !!node && ts.isPropertyAccessExpression(node) && node.name.text === 'url' && ts.isMetaProperty(node.expression) && node.expression.keywordToken === ts.SyntaxKind.ImportKeyword;
}

/**
 * Reads every module specifier of one file from a parse-only syntax tree (no program, no type
 * checker): imports, re-exports, `export *`, `import x = require()`, triple-slash path
 * references, and — anywhere in the file — `import('literal')`, `require('literal')`,
 * `typeof import('literal')` and `new URL('literal', import.meta.url)` (how bundlers and Node
 * name a file next to the module). Specifiers that are not string literals are not edges.
 */
export function extractSpecifiers(ts: TypeScript, fileName: string, text: string): Extracted {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const out: Specifier[] = [];
  const add = (node: import('ts-morph').ts.Node | undefined, kind: EdgeKind, typeOnly: boolean) => {
    if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && node.text) out.push({ specifier: node.text, kind, typeOnly });
  };
  for (const ref of sf.referencedFiles) if (ref.fileName) out.push({ specifier: ref.fileName, kind: 'reference', typeOnly: false });

  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      let typeOnly = Boolean(clause?.isTypeOnly);
      if (clause && !typeOnly && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings)) {
        const elements = clause.namedBindings.elements;
        typeOnly = elements.length > 0 && elements.every((e) => e.isTypeOnly);
      }
      add(statement.moduleSpecifier, 'import', typeOnly);
    } else if (ts.isExportDeclaration(statement)) {
      let typeOnly = statement.isTypeOnly;
      const clause = statement.exportClause;
      if (!typeOnly && clause && ts.isNamedExports(clause)) typeOnly = clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
      add(statement.moduleSpecifier, 'export', typeOnly);
    } else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) {
      add(statement.moduleReference.expression, 'import-equals', statement.isTypeOnly);
    }
  }

  if (CALL_HINT.test(text)) {
    const visit = (node: import('ts-morph').ts.Node): void => {
      if (ts.isCallExpression(node) && node.arguments.length >= 1) {
        const callee = node.expression;
        if (callee.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], 'dynamic', false);
        else if (ts.isIdentifier(callee) && callee.text === 'require' && node.arguments.length === 1) add(node.arguments[0], 'require', false);
      } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL' && node.arguments?.length === 2 && isImportMetaUrl(ts, node.arguments[1])) {
        add(node.arguments[0], 'url', false);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        add(node.argument.literal, 'import-type', true);
      }
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(sf, visit);
  }

  const diagnostics = (sf as unknown as { parseDiagnostics?: Array<import('ts-morph').ts.DiagnosticWithLocation> }).parseDiagnostics;
  const first = diagnostics?.[0];
  let error: string | undefined;
  if (first) {
    const { line, character } = sf.getLineAndCharacterOfPosition(first.start);
    error = `${line + 1}:${character + 1} ${ts.flattenDiagnosticMessageText(first.messageText, ' ')}`;
  }
  return error ? { specifiers: out, error } : { specifiers: out };
}
