/**
 * Letta's base tools of a `letta_v1_agent`, as the stand-in's 'tools' mode offers and runs them:
 * `memory_insert` and `memory_replace` edit a core-memory block exactly as the archived server's
 * core tool executor does (and return the block's new value), `conversation_search` searches the
 * agent's messages by shared words. A failing tool returns the server's "Error executing
 * function …" text with status 'error'; the step goes on.
 */
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { AgentRecord, LettaStore } from './store.ts';
import { textOf } from './llm.ts';

const LABEL = { type: 'string', description: 'Section of the memory to be edited, identified by its label.' };

export const MEMORY_TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'conversation_search',
      description: 'Search prior conversation history using hybrid search (text + semantic similarity).',
      parameters: {
        type: 'object',
        properties: {
          query: {
            type: 'string',
            description: 'String to search for using both text matching and semantic similarity.',
          },
          roles: {
            type: 'array',
            items: { type: 'string', enum: ['assistant', 'user', 'tool'] },
            description: 'Optional list of message roles to filter by.',
          },
          limit: { type: 'integer', description: 'Maximum number of results to return.' },
          start_date: { type: 'string', description: 'Messages created on or after this date (inclusive).' },
          end_date: { type: 'string', description: 'Messages created on or before this date (inclusive).' },
        },
        required: [],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'memory_insert',
      description: 'The memory_insert command allows you to insert text at a specific location in a memory block.',
      parameters: {
        type: 'object',
        properties: {
          label: LABEL,
          new_string: { type: 'string', description: 'The text to insert. Do not include line number prefixes.' },
          insert_line: {
            type: 'integer',
            description:
              'The line number after which to insert the text (0 for beginning of file). Defaults to -1 (end of the file).',
          },
        },
        required: ['label', 'new_string'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'memory_replace',
      description:
        'The memory_replace command allows you to replace a specific string in a memory block with a new string.',
      parameters: {
        type: 'object',
        properties: {
          label: LABEL,
          old_string: {
            type: 'string',
            description: 'The text to replace (must match exactly, including whitespace and indentation).',
          },
          new_string: {
            type: 'string',
            description: 'The new text to insert in place of the old text. Do not include line number prefixes.',
          },
        },
        required: ['label', 'old_string', 'new_string'],
      },
    },
  },
];

export interface ToolResult {
  status: 'success' | 'error';
  /** What the tool returned (the block's new value for memory edits), or the error text. */
  text: string;
}

/** Python's `str()` of an exception: a KeyError's message comes quoted. */
class ToolFailure extends Error {
  readonly pyName: string;
  constructor(pyName: string, message: string) {
    super(pyName === 'KeyError' ? `'${message}'` : message);
    this.pyName = pyName;
  }
}

function blockValue(store: LettaStore, rec: AgentRecord, label: string): string {
  const blocks = store.blocksOf(rec);
  const block = blocks.find((b) => b.label === label);
  if (!block)
    throw new ToolFailure(
      'KeyError',
      `Block field ${label} does not exist (available sections = ${blocks.map((b) => b.label).join(', ')})`,
    );
  if (block.read_only) throw new ToolFailure('ValueError', 'Error This block is read-only and cannot be edited.');
  return block.value.replaceAll('\t', '        ');
}

function str(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new ToolFailure('TypeError', `missing or invalid argument '${key}'`);
  return v;
}

function memoryInsert(store: LettaStore, rec: AgentRecord, args: Record<string, unknown>): string {
  const label = str(args, 'label');
  const current = blockValue(store, rec, label).split('\n');
  const inserted = str(args, 'new_string').replaceAll('\t', '        ').split('\n');
  let at = typeof args.insert_line === 'number' ? args.insert_line : -1;
  if (at === -1) at = current.length;
  else if (at < 0 || at > current.length)
    throw new ToolFailure(
      'ValueError',
      `Invalid \`insert_line\` parameter: ${at}. It should be within the range of lines of the memory block: [0, ${current.length}], or -1 to append to the end of the memory block.`,
    );
  const value = [...current.slice(0, at), ...inserted, ...current.slice(at)].join('\n');
  store.upsertBlock(rec, label, { value });
  return value;
}

function memoryReplace(store: LettaStore, rec: AgentRecord, args: Record<string, unknown>): string {
  const label = str(args, 'label');
  const current = blockValue(store, rec, label);
  const oldString = str(args, 'old_string').replaceAll('\t', '        ');
  const newString = str(args, 'new_string').replaceAll('\t', '        ');
  const count = current.split(oldString).length - 1;
  if (count === 0)
    throw new ToolFailure(
      'ValueError',
      `No replacement was performed, old_string \`${oldString}\` did not appear verbatim in memory block with label \`${label}\`.`,
    );
  if (count > 1) {
    const lines = current.split('\n').flatMap((l, i) => (l.includes(oldString) ? [i + 1] : []));
    throw new ToolFailure(
      'ValueError',
      `No replacement was performed. Multiple occurrences of old_string \`${oldString}\` in lines [${lines.join(', ')}]. Please ensure it is unique.`,
    );
  }
  const value = current.replace(oldString, () => newString);
  store.upsertBlock(rec, label, { value });
  return value;
}

function conversationSearch(rec: AgentRecord, args: Record<string, unknown>): string {
  const query = typeof args.query === 'string' ? args.query.toLowerCase().split(/\W+/).filter(Boolean) : [];
  const limit = typeof args.limit === 'number' ? args.limit : 10;
  const found = rec.messages
    .flatMap((m) =>
      m.message_type === 'user_message' || m.message_type === 'assistant_message'
        ? [{ role: m.message_type === 'user_message' ? 'user' : 'assistant', date: m.date, text: textOf(m.content) }]
        : [],
    )
    .filter((m) => query.length === 0 || query.some((w) => m.text.toLowerCase().includes(w)))
    .slice(-limit);
  if (found.length === 0) return 'No results found.';
  return JSON.stringify(found.map((m) => ({ timestamp: m.date, role: m.role, content: m.text })));
}

/** Python's `json.dumps` (`, ` and `: ` separators, non-ASCII as `\uXXXX`). */
function pyDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`)
      .join(', ')}}`;
  if (typeof v === 'string')
    return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return JSON.stringify(v);
}

/** A tool call's arguments as the server stores them: parsed, then dumped again by Python. */
export function storedArguments(raw: string): string {
  try {
    return pyDumps(JSON.parse(raw));
  } catch {
    return raw;
  }
}

/** Runs one tool call of the model against the agent. */
export function runTool(store: LettaStore, rec: AgentRecord, name: string, rawArgs: string): ToolResult {
  try {
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(rawArgs || '{}') as Record<string, unknown>;
    } catch (e) {
      throw new ToolFailure('JSONDecodeError', (e as Error).message);
    }
    if (name === 'memory_insert') return { status: 'success', text: memoryInsert(store, rec, args) };
    if (name === 'memory_replace') return { status: 'success', text: memoryReplace(store, rec, args) };
    if (name === 'conversation_search') return { status: 'success', text: conversationSearch(rec, args) };
    throw new ToolFailure('ValueError', `Tool ${name} not found`);
  } catch (e) {
    const kind = e instanceof ToolFailure ? e.pyName : 'Exception';
    const text = `Error executing function ${name}: ${kind}: ${(e as Error).message}`;
    return { status: 'error', text: text.slice(0, 1000) };
  }
}
