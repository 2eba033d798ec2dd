/**
 * `${ENV}` interpolation in schedule string values: `${NAME}`, `${NAME:-default}` (the default is
 * used when NAME is unset or empty, as in sh), and `$${` for a literal `${`. A lone `$` or `$NAME`
 * is left as it is. Pure: the environment is passed in. Keys are never interpolated.
 */
import { envVar } from '../lookup.js';

export interface Interpolated {
  value: string;
  /** True when at least one `${…}` was replaced. */
  replaced: boolean;
  /** Variables referenced without a default and not set. */
  missing: string[];
  /** Malformed references, described. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): Interpolated {
  const out: Interpolated = { value: '', replaced: false, missing: [], errors: [] };
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out.value += text.slice(i);
      break;
    }
    out.value += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out.value += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      out.value += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      out.errors.push(`"${text.slice(dollar)}" has no closing }`);
      out.value += text.slice(dollar);
      break;
    }
    const body = text.slice(dollar + 2, close);
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    if (!NAME.test(name)) {
      out.errors.push(`"\${${body}}" is not a variable reference (use \${NAME} or \${NAME:-default}; write $\${ for a literal \${)`);
    } else {
      const value = envVar(env, name);
      if (sep >= 0) out.value += value === undefined || value === '' ? body.slice(sep + 2) : value;
      else if (value === undefined) out.missing.push(name);
      else out.value += value;
      out.replaced = true;
    }
    i = close + 1;
  }
  return out;
}
