import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Reading the Bicep templates as syntax trees (tree-sitter-bicep), since no Bicep compiler can run
 * here: the infra tests ask the trees, not regular expressions, what a template declares.
 */

export interface SyntaxNode {
  type: string;
  text: string;
  isNamed: boolean;
  isMissing: boolean;
  children: SyntaxNode[];
  namedChildren: SyntaxNode[];
  previousNamedSibling: SyntaxNode | null;
  parent: SyntaxNode | null;
  childForFieldName(name: string): SyntaxNode | null;
  startPosition: { row: number; column: number };
}

interface Parser {
  setLanguage(language: unknown): void;
  parse(source: string): { rootNode: SyntaxNode };
}

const require = createRequire(import.meta.url);
const ParserClass = require('tree-sitter') as new () => Parser;
const bicepLanguage = require('tree-sitter-bicep') as unknown;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const infraDir = path.join(repoRoot, 'infra');

const parser = new ParserClass();
parser.setLanguage(bicepLanguage);

export function parseBicep(source: string): SyntaxNode {
  return parser.parse(source).rootNode;
}

export interface BicepFile {
  /** Path relative to infra/, with forward slashes. */
  name: string;
  absolutePath: string;
  source: string;
  root: SyntaxNode;
}

export function loadBicepFile(absolutePath: string): BicepFile {
  const source = readFileSync(absolutePath, 'utf8');
  return { name: path.relative(infraDir, absolutePath).split(path.sep).join('/'), absolutePath, source, root: parseBicep(source) };
}

/** infra/main.bicep and every infra/modules/*.bicep. */
export function allBicepFiles(): BicepFile[] {
  const modules = readdirSync(path.join(infraDir, 'modules'))
    .filter((f) => f.endsWith('.bicep'))
    .sort()
    .map((f) => path.join(infraDir, 'modules', f));
  return [path.join(infraDir, 'main.bicep'), ...modules].map(loadBicepFile);
}

export function descendants(node: SyntaxNode, type?: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const visit = (n: SyntaxNode): void => {
    if (type === undefined || n.type === type) out.push(n);
    for (const c of n.children) visit(c);
  };
  for (const c of node.children) visit(c);
  return out;
}

/** Every ERROR node and every node the parser had to invent (MISSING), with its line. */
export function syntaxProblems(root: SyntaxNode): string[] {
  const problems: string[] = [];
  const visit = (n: SyntaxNode): void => {
    if (n.type === 'ERROR' || n.isMissing) {
      problems.push(`${n.isMissing ? `missing ${n.type}` : 'syntax error'} at line ${n.startPosition.row + 1}: ${n.text.slice(0, 80)}`);
    }
    for (const c of n.children) visit(c);
  };
  visit(root);
  return problems;
}

/** The value of a string literal; undefined when it interpolates. */
export function stringValue(node: SyntaxNode): string | undefined {
  if (node.type !== 'string') return undefined;
  let value = '';
  for (const c of node.namedChildren) {
    if (c.type === 'interpolation') return undefined;
    if (c.type === 'string_content') value += c.text;
    else if (c.type === 'escape_sequence') value += unescape(c.text);
  }
  return value;
}

function unescape(sequence: string): string {
  const simple: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };
  const known = simple[sequence];
  if (known !== undefined) return known;
  const unicode = /^\\u\{([0-9a-fA-F]+)\}$/.exec(sequence);
  return unicode?.[1] ? String.fromCodePoint(parseInt(unicode[1], 16)) : sequence;
}

/** The key of an object property: identifier or quoted string. */
export function propertyKey(property: SyntaxNode): string {
  const key = property.namedChildren[0];
  if (!key) throw new Error('object property without a key');
  return key.type === 'string' ? (stringValue(key) ?? key.text) : key.text;
}

export function propertyValue(property: SyntaxNode): SyntaxNode {
  const value = property.namedChildren[1];
  if (!value) throw new Error(`object property ${propertyKey(property)} without a value`);
  return value;
}

/** The properties of an object node, by key (direct children only). */
export function objectProperties(object: SyntaxNode): Map<string, SyntaxNode> {
  const map = new Map<string, SyntaxNode>();
  for (const p of object.namedChildren) if (p.type === 'object_property') map.set(propertyKey(p), propertyValue(p));
  return map;
}

/** A declaration's body object, looking through `if (…)` and `[for …: …]`. */
export function bodyObject(declaration: SyntaxNode): SyntaxNode | undefined {
  const find = (n: SyntaxNode): SyntaxNode | undefined => {
    for (const c of n.namedChildren) {
      if (c.type === 'object') return c;
      if (c.type === 'if_statement' || c.type === 'for_statement') {
        const inner = find(c);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return find(declaration);
}

export function declarationName(declaration: SyntaxNode): string {
  const id = declaration.namedChildren.find((c) => c.type === 'identifier');
  if (!id) throw new Error(`${declaration.type} without a name`);
  return id.text;
}

/** The decorators written right above a declaration (name → the call node). */
export function decoratorsOf(declaration: SyntaxNode): Map<string, SyntaxNode> {
  const map = new Map<string, SyntaxNode>();
  const previous = declaration.previousNamedSibling;
  if (!previous || previous.type !== 'decorators') return map;
  for (const decorator of previous.namedChildren) {
    const call = decorator.namedChildren[0];
    if (!call) continue;
    const fn = call.type === 'call_expression' ? call.namedChildren[0] : call;
    if (fn) map.set(fn.text, call);
  }
  return map;
}

export function topLevel(file: BicepFile, type: string): SyntaxNode[] {
  return file.root.namedChildren.filter((c) => c.type === type);
}

export interface ParamInfo {
  name: string;
  hasDefault: boolean;
  secure: boolean;
  description?: string;
}

export function paramsOf(file: BicepFile): ParamInfo[] {
  return topLevel(file, 'parameter_declaration').map((p) => {
    const decorators = decoratorsOf(p);
    const descriptionArg = decorators.get('description') ? descendants(decorators.get('description') as SyntaxNode, 'string')[0] : undefined;
    const description = descriptionArg ? stringValue(descriptionArg) : undefined;
    return {
      name: declarationName(p),
      // name, type, then a default value when there is one
      hasDefault: p.namedChildren.length > 2,
      secure: decorators.has('secure'),
      ...(description === undefined ? {} : { description }),
    };
  });
}

export function outputNames(file: BicepFile): string[] {
  return topLevel(file, 'output_declaration').map(declarationName);
}

/** Resource declarations with their type string, e.g. "Microsoft.Web/sites/config@2024-04-01". */
export function resources(file: BicepFile): Array<{ name: string; type: string; node: SyntaxNode }> {
  return topLevel(file, 'resource_declaration').map((r) => {
    const typeNode = r.namedChildren.find((c) => c.type === 'string');
    return { name: declarationName(r), type: typeNode ? (stringValue(typeNode) ?? '') : '', node: r };
  });
}

/** Calls of a function anywhere under a node, e.g. every loadTextContent(…). */
export function callsOf(node: SyntaxNode, functionName: string): SyntaxNode[] {
  return descendants(node, 'call_expression').filter((c) => c.namedChildren[0]?.text === functionName);
}

/** The literal string arguments of a call. */
export function stringArguments(call: SyntaxNode): Array<string | undefined> {
  const args = call.namedChildren.find((c) => c.type === 'arguments');
  return args ? args.namedChildren.map(stringValue) : [];
}

const DECLARATIONS = new Set(['parameter_declaration', 'variable_declaration', 'resource_declaration', 'module_declaration', 'output_declaration', 'user_defined_function']);

/**
 * Names a template uses but never declares (a typo Bicep would reject): every identifier in an
 * expression must be a parameter, variable, resource, module, function, import, loop variable or
 * lambda parameter of the file. Scopes are not tracked: a loop variable counts everywhere.
 */
export function undeclaredNames(file: BicepFile): string[] {
  const declared = new Set<string>();
  for (const n of descendants(file.root)) {
    if (DECLARATIONS.has(n.type) && n.type !== 'output_declaration') declared.add(declarationName(n));
    else if (n.type === 'import_functionality') n.namedChildren.filter((c) => c.type === 'identifier').forEach((c) => declared.add(c.text));
    else if (n.type === 'loop_variable' || n.type === 'loop_enumerator') declared.add(n.text);
    else if (n.type === 'for_statement') {
      const initializer = n.childForFieldName('initializer');
      if (initializer?.type === 'identifier') declared.add(initializer.text);
    } else if (n.type === 'lambda_expression' && n.namedChildren[0]?.type === 'identifier') declared.add(n.namedChildren[0].text);
    else if (n.type === 'parameter' && n.namedChildren[0]) declared.add(n.namedChildren[0].text);
  }
  const undeclared = new Set<string>();
  for (const id of descendants(file.root, 'identifier')) {
    const parent = id.parent;
    if (!parent) continue;
    const first = parent.namedChildren[0];
    const isFirst = first !== undefined && first.startPosition.row === id.startPosition.row && first.startPosition.column === id.startPosition.column;
    if (parent.type === 'object_property' && isFirst) continue; // a key
    if (DECLARATIONS.has(parent.type) && isFirst) continue; // the declared name
    if (parent.type === 'call_expression' && isFirst) continue; // a function name
    if (['import_functionality', 'parameter', 'lambda_expression', 'for_statement', 'target_scope_assignment'].includes(parent.type) && isFirst) continue;
    if (!declared.has(id.text)) undeclared.add(`${id.text} (line ${id.startPosition.row + 1})`);
  }
  return [...undeclared];
}
