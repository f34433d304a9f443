/**
 * How reply text is cut into the pieces ElevenLabs is asked to speak. The plugin's own sentence
 * tokenizer emits a sentence only once the next one has begun, so the first audio waits for more
 * than a whole sentence of tokens. This chunker releases the first piece of each segment at its
 * first clause boundary (or after a few words, whichever comes first), then whole sentences as
 * soon as each one ends; a sentence too short to be spoken well on its own is joined to the next.
 *
 * The state machine is synchronous (text in, pieces out), so it can be tested without streams;
 * `ClauseFirstTokenizer` wraps it in the framework's tokenizer interface for the plugin.
 */
import { AsyncIterableQueue, tokenize } from '@livekit/agents';
import { type ChunkerOptions, type TtsChunking, defaultChunkerOptions } from './speech-settings.ts';

/**
 * `, ; : ! ?` and dashes end a clause the moment they follow a letter (a digit before them means a
 * number such as `3,000` or `10:30`): no need to wait for the next token.
 */
const clauseEnd = /\p{L}[,;:!?—–]/u;
/**
 * A sentence ends at `. ! ? …` (and closing quotes or brackets) once whitespace follows: a `.`
 * may still turn out to be inside `3.5` or `example.com` until then.
 */
const sentenceEnd = /[.!?…]+["')\]]*(?=\s)/gu;
/** Words whose `.` ends an abbreviation, not a sentence. */
const abbreviations = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'prof', 'vs', 'etc', 'e.g', 'i.e']);

function endsWithAbbreviation(textBeforeStop: string): boolean {
  const word = /([\p{L}.]+)$/u.exec(textBeforeStop)?.[1]?.toLowerCase() ?? '';
  return abbreviations.has(word) || /^\p{L}$/u.test(word);
}

export class TextChunker {
  readonly #opts: ChunkerOptions;
  #buffer = '';
  /** True until the first piece of the current segment has been released. */
  #first = true;

  constructor(opts: Partial<ChunkerOptions> = {}) {
    this.#opts = { ...defaultChunkerOptions, ...opts };
  }

  /** Adds text; returns the pieces it completes (possibly none). */
  push(text: string): string[] {
    this.#buffer += text;
    const out: string[] = [];
    if (this.#first) {
      const end = this.#firstEnd();
      if (end === null) return out;
      this.#release(end, out);
      this.#first = false;
    }
    for (
      let end = this.#sentenceEnd(this.#opts.minChunkChars);
      end !== null;
      end = this.#sentenceEnd(this.#opts.minChunkChars)
    )
      this.#release(end, out);
    return out;
  }

  /** Releases whatever is buffered (end of input, or a flush); the next piece is a first piece again. */
  flush(): string[] {
    const rest = this.#buffer.trim();
    this.#buffer = '';
    this.#first = true;
    return rest ? [rest] : [];
  }

  #release(end: number, out: string[]): void {
    const piece = this.#buffer.slice(0, end).trim();
    this.#buffer = this.#buffer.slice(end);
    if (piece) out.push(piece);
  }

  /** Where the first piece ends: the earliest clause boundary, or the end of the Nth complete word. */
  #firstEnd(): number | null {
    const text = this.#buffer;
    let best: number | null = null;
    const clause = clauseEnd.exec(text);
    if (clause) best = clause.index + clause[0].length;
    const sentence = this.#sentenceEnd(0);
    if (sentence !== null && (best === null || sentence < best)) best = sentence;
    // A word is complete once whitespace follows it: a token stream may still extend it.
    const words = [...text.matchAll(/\S+(?=\s)/g)];
    const nth = words[this.#opts.firstChunkWords - 1];
    if (nth) {
      const end = nth.index + nth[0].length;
      if (best === null || end < best) best = end;
    }
    return best;
  }

  /** The end of the first complete sentence of at least `minChars` characters, or null. */
  #sentenceEnd(minChars: number): number | null {
    for (const m of this.#buffer.matchAll(sentenceEnd)) {
      const end = m.index + m[0].length;
      if (m[0].startsWith('.') && endsWithAbbreviation(this.#buffer.slice(0, m.index))) continue;
      if (this.#buffer.slice(0, end).trim().length >= minChars) return end;
    }
    return null;
  }
}

class ClauseFirstStream extends tokenize.SentenceStream {
  readonly #chunker: TextChunker;
  readonly #out = new AsyncIterableQueue<tokenize.TokenData>();
  #segment = 0;

  constructor(opts: Partial<ChunkerOptions>) {
    super();
    this.#chunker = new TextChunker(opts);
  }

  #emit(pieces: string[]): void {
    for (const token of pieces) this.#out.put({ segmentId: String(this.#segment), token });
  }

  // Pieces are released synchronously, in the call that completes them: no extra task hop.
  override pushText(text: string): void {
    if (this.closed || this.#out.closed) throw new Error('Stream is closed');
    this.#emit(this.#chunker.push(text));
  }

  override flush(): void {
    if (this.closed || this.#out.closed) throw new Error('Stream is closed');
    this.#emit(this.#chunker.flush());
    this.#segment++;
  }

  override endInput(): void {
    if (this.#out.closed) throw new Error('Input is closed');
    this.#emit(this.#chunker.flush());
    this.#out.close();
  }

  override next(): Promise<IteratorResult<tokenize.TokenData>> {
    return this.#out.next();
  }

  override close(): void {
    super.close();
    this.#out.close();
  }
}

/**
 * The chunker as a framework sentence tokenizer. It must be a `SentenceTokenizer`: in auto mode
 * the ElevenLabs plugin flushes each piece only for sentence tokenizers, and ElevenLabs starts
 * generating a flushed piece at once instead of waiting for its character buffer to fill.
 */
export class ClauseFirstTokenizer extends tokenize.SentenceTokenizer {
  readonly #opts: Partial<ChunkerOptions>;

  constructor(opts: Partial<ChunkerOptions> = {}) {
    super();
    this.#opts = opts;
  }

  tokenize(text: string): string[] {
    const chunker = new TextChunker(this.#opts);
    return [...chunker.push(text), ...chunker.flush()];
  }

  stream(): tokenize.SentenceStream {
    return new ClauseFirstStream(this.#opts);
  }
}

/** The tokenizer handed to the ElevenLabs plugin. */
export function ttsTokenizer(chunking: TtsChunking): tokenize.SentenceTokenizer {
  return chunking === 'clause' ? new ClauseFirstTokenizer() : new tokenize.basic.SentenceTokenizer();
}
