import { createRequire } from 'node:module';
import type Handlebars from 'handlebars';

type Render = (values: Readonly<Record<string, string>>) => string;

// Only Handlebars' parser (what Handlebars.parse is): templates here are text and {{variable}}, rendered
// without Handlebars' runtime (see render). The parser loads in about 5 ms, the whole package in 25 to 35,
// which every command that reads fleet.yaml paid. It knows no helper or partial anyone registered.
const { parse } = createRequire(import.meta.url)('handlebars/dist/cjs/handlebars/compiler/base.js') as { parse: typeof Handlebars.parse };
const compiled = new Map<string, Render>();

export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/**
 * Why a template cannot be rendered from these variables, or undefined when it can. Only plain
 * {{variable}} (or {{{variable}}}) is allowed: helpers, blocks, partials and paths would run logic from a
 * policy file, and a misspelt variable must be an error here, never an empty string in a profile.
 */
export function templateProblem(text: string, variables: readonly string[]): string | undefined {
  let program: hbs.AST.Program;
  try {
    program = parse(text);
  } catch (error) {
    return `the template does not parse: ${(error as Error).message.split('\n')[0]}`;
  }
  for (const statement of program.body) {
    if (statement.type === 'ContentStatement') continue;
    if (statement.type !== 'MustacheStatement') return 'only {{variable}} is allowed in a template (no blocks, partials or comments)';
    const mustache = statement as hbs.AST.MustacheStatement;
    const path = mustache.path as hbs.AST.PathExpression;
    if (mustache.params.length || mustache.hash || path.type !== 'PathExpression' || path.parts.length !== 1 || path.original !== path.parts[0] || path.data) {
      return 'only {{variable}} is allowed in a template (no helpers or paths)';
    }
    const name = path.original;
    if (!variables.includes(name)) {
      return `{{${name}}} names no directory column; the columns are ${variables.map((v) => `{{${v}}}`).join(', ')}`;
    }
  }
  return undefined;
}

const variablesOf = new Map<string, string[]>();

/** The variables a valid template names, in order. */
export function templateVariables(text: string): string[] {
  let names = variablesOf.get(text);
  if (!names) {
    names = parse(text).body
      .filter((s): s is hbs.AST.MustacheStatement => s.type === 'MustacheStatement')
      .map((s) => (s.path as hbs.AST.PathExpression).original);
    variablesOf.set(text, names);
  }
  return names;
}

/**
 * Renders a template checked by templateProblem. Strict: a missing variable throws, never renders "".
 * A checked template is only text and {{variable}}, so it is rendered from Handlebars' own parse (text
 * after whitespace control and \\{{ escapes) without Handlebars' runtime, which costs more than the rest of
 * a user's profile; a test renders many templates both ways.
 */
export function render(text: string, values: Readonly<Record<string, string>>): string {
  let fn = compiled.get(text);
  if (!fn) {
    fn = compile(text);
    compiled.set(text, fn);
  }
  return fn(values);
}

function compile(text: string): Render {
  const parts = parse(text).body.map((s) => (s.type === 'ContentStatement' ? (s as hbs.AST.ContentStatement).value : { name: ((s as hbs.AST.MustacheStatement).path as hbs.AST.PathExpression).original }));
  return (values) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else if (Object.hasOwn(values, part.name) && typeof values[part.name] === 'string') out += values[part.name];
      else throw new Error(`"${part.name}" not defined in the directory row`);
    }
    return out;
  };
}
