/**
 * Request validation the way FastAPI + pydantic do it: every path, query and body error of a
 * request is collected, then answered as one 422 (see `validationError` for the body's shape).
 */
import type { PydanticError } from './http.ts';
import { idPattern, missing, validationError } from './http.ts';

const TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

function expected(allowed: readonly string[]): string {
  const q = allowed.map((a) => `'${a}'`);
  return q.length === 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

export function literalError(loc: (string | number)[], allowed: readonly string[], input: unknown): PydanticError {
  const e = expected(allowed);
  return { type: 'literal_error', loc, msg: `Input should be ${e}`, input, ctx: { expected: e } };
}

export function datetimeError(loc: (string | number)[], input: string): PydanticError {
  const reason = 'invalid character in year';
  return {
    type: 'datetime_from_date_parsing',
    loc,
    msg: `Input should be a valid datetime or date, ${reason}`,
    input,
    ctx: { error: reason },
  };
}

export function typeError(type: string, loc: (string | number)[], msg: string, input: unknown): PydanticError {
  return { type, loc, msg, input };
}

export class Checks {
  readonly errors: PydanticError[] = [];
  private readonly examples: string[] = [];
  private readonly query: Record<string, string[]>;

  constructor(query: Record<string, string[]>) {
    this.query = query;
  }

  /** A `<primitive>_id` path parameter that must be `<primitive>-<uuid4>`. */
  pathId(param: string, value: string): string {
    const primitive = param.replace(/_id$/, '');
    const pattern = idPattern(primitive);
    if (!pattern.test(value)) {
      this.errors.push({
        type: 'string_pattern_mismatch',
        loc: ['path', param],
        msg: `String should match pattern '${primitive}-{uuid4}'`,
        input: value,
        ctx: { pattern: pattern.source },
      });
      this.examples.push(`${primitive}-123e4567-e89b-42d3-8456-426614174000`);
    }
    return value;
  }

  str(name: string): string | null {
    const v = this.query[name];
    return v?.[v.length - 1] ?? null;
  }

  /** A required string query parameter. */
  requiredStr(name: string): string {
    const v = this.str(name);
    if (v === null) this.errors.push(missing(['query', name], null));
    return v ?? '';
  }

  list(name: string): string[] | null {
    return this.query[name] ?? null;
  }

  int(name: string, dflt: number | null): number | null {
    const v = this.str(name);
    if (v === null) return dflt;
    if (!/^\s*[+-]?\d+\s*$/.test(v)) {
      this.errors.push({
        type: 'int_parsing',
        loc: ['query', name],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: v,
      });
      return dflt;
    }
    return Number.parseInt(v, 10);
  }

  bool(name: string, dflt: boolean): boolean {
    const v = this.str(name);
    if (v === null) return dflt;
    const l = v.toLowerCase();
    if (TRUE.has(l)) return true;
    if (FALSE.has(l)) return false;
    this.errors.push({
      type: 'bool_parsing',
      loc: ['query', name],
      msg: 'Input should be a valid boolean, unable to interpret input',
      input: v,
    });
    return dflt;
  }

  literal<T extends string>(name: string, allowed: readonly T[], dflt: T): T {
    const v = this.str(name);
    if (v === null) return dflt;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.errors.push(literalError(['query', name], allowed, v));
    return dflt;
  }

  /** A repeated query parameter whose every value must be one of `allowed`. */
  literalList<T extends string>(name: string, allowed: readonly T[]): T[] | null {
    const vs = this.list(name);
    if (vs === null) return null;
    vs.forEach((v, i) => {
      if (!(allowed as readonly string[]).includes(v)) this.errors.push(literalError(['query', name, i], allowed, v));
    });
    return vs.filter((v): v is T => (allowed as readonly string[]).includes(v));
  }

  datetime(name: string): number | null {
    const v = this.str(name);
    if (v === null) return null;
    const t = Date.parse(v);
    if (Number.isNaN(t)) {
      this.errors.push(datetimeError(['query', name], v));
      return null;
    }
    return t;
  }

  /** Throws the collected errors as one 422. */
  done(): void {
    if (this.errors.length > 0) throw validationError(this.errors, this.examples);
  }
}

/** The cursor query every Letta list endpoint takes (`after`, `before`, `limit`, `order`, `order_by`). */
export function pageQuery(c: Checks): {
  after: string | null;
  before: string | null;
  limit: number | null;
  order: string;
} {
  const after = c.str('after');
  const before = c.str('before');
  const limit = c.int('limit', 100);
  const order = c.literal('order', ['asc', 'desc'], 'desc');
  c.literal('order_by', ['created_at'], 'created_at');
  return { after, before, limit, order };
}

export type Json = Record<string, unknown>;

/** The request body as a JSON object, or a `missing` / `model_attributes_type` error. */
export function bodyObject(c: Checks, body: unknown): Json {
  if (body === undefined) {
    c.errors.push(missing(['body'], null));
    return {};
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    c.errors.push({
      type: 'model_attributes_type',
      loc: ['body'],
      msg: 'Input should be a valid dictionary or object to extract fields from',
      input: body,
    });
    return {};
  }
  return body as Json;
}

export function stringField(
  c: Checks,
  o: Json,
  loc: (string | number)[],
  key: string,
  required: boolean,
): string | null {
  const v = o[key];
  if (v === undefined || (v === null && !required)) {
    if (required) c.errors.push(missing([...loc, key], o));
    return null;
  }
  if (typeof v !== 'string') {
    c.errors.push({ type: 'string_type', loc: [...loc, key], msg: 'Input should be a valid string', input: v });
    return null;
  }
  return v;
}

export function boolField(c: Checks, o: Json, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  c.errors.push({ type: 'bool_type', loc: ['body', key], msg: 'Input should be a valid boolean', input: v });
  return dflt;
}

export function stringListField(c: Checks, o: Json, key: string): string[] | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) {
    c.errors.push({ type: 'list_type', loc: ['body', key], msg: 'Input should be a valid list', input: v });
    return null;
  }
  v.forEach((x, i) => {
    if (typeof x !== 'string')
      c.errors.push({ type: 'string_type', loc: ['body', key, i], msg: 'Input should be a valid string', input: x });
  });
  return v.filter((x): x is string => typeof x === 'string');
}
