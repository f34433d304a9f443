/**
 * A reader for the block-style YAML subset that `livekit.yaml` uses: nested maps by indentation,
 * lists of scalars, comments, and plain, quoted, integer or boolean scalars. No YAML parser is
 * installed, and for one config file a strict small reader beats a new dependency: anything
 * outside the subset (flow style, anchors, tags, multi-line strings, tabs) is an error, never a
 * silent misreading.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  no: number;
  indent: number;
  text: string;
}

export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tabs are not allowed`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') return;
    if (text === '---' || text === '...') throw new Error(`line ${i + 1}: one document only`);
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  if (lines.length === 0) return null;
  const [value, next] = parseBlock(lines, 0, lines[0]!.indent);
  if (next < lines.length) throw new Error(`line ${lines[next]!.no}: unexpected indentation`);
  return value;
}

function parseBlock(lines: Line[], start: number, indent: number): [YamlValue, number] {
  return lines[start]!.text.startsWith('- ') ? parseList(lines, start, indent) : parseMap(lines, start, indent);
}

function parseMap(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const m = /^([A-Za-z0-9_.-]+):(?: +(.*))?$/.exec(line.text);
    if (!m) throw new Error(`line ${line.no}: expected "key: value"`);
    const key = m[1]!;
    if (Object.hasOwn(map, key)) throw new Error(`line ${line.no}: duplicate key ${key}`);
    i += 1;
    if (m[2] !== undefined) {
      map[key] = parseScalar(m[2], line.no);
    } else if (i < lines.length && lines[i]!.indent > indent) {
      [map[key], i] = parseBlock(lines, i, lines[i]!.indent);
    } else {
      map[key] = null;
    }
  }
  return [map, i];
}

function parseList(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const list: YamlValue[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    if (!line.text.startsWith('- ')) throw new Error(`line ${line.no}: expected "- item"`);
    list.push(parseScalar(line.text.slice(2).trim(), line.no));
    i += 1;
  }
  return [list, i];
}

function parseScalar(text: string, no: number): YamlValue {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new Error(`line ${no}: bad single-quoted string`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^[[\]{}&*!|>%@`,?:-]/.test(text) || text.includes(': ')) {
    throw new Error(`line ${no}: ${JSON.stringify(text)} is outside the supported YAML subset`);
  }
  return text;
}

/** Drops a `#` comment that starts a line or follows a space, outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || line[i - 1] === ' ')) {
      return line.slice(0, i);
    }
  }
  return line;
}
