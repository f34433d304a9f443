/**
 * The TTS chunker: the first piece goes at the first clause boundary or after a few words, later
 * pieces are whole sentences released as soon as they end, and none of them is too short to
 * speak well; as a tokenizer, the ElevenLabs plugin flushes every piece.
 */
import { tokenize } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { tokenize as llmTokens } from '../../sim/index.ts';
import { ClauseFirstTokenizer, TextChunker } from '../../src/voice/text-chunker.ts';

/** Feeds text token by token (as an LLM streams it); returns each piece and the token that released it. */
function stream(text: string, c = new TextChunker()): { piece: string; after: string }[] {
  const out: { piece: string; after: string }[] = [];
  for (const token of llmTokens(text)) for (const piece of c.push(token)) out.push({ piece, after: token });
  for (const piece of c.flush()) out.push({ piece, after: '<end>' });
  return out;
}

describe('TextChunker', () => {
  it('releases the first piece the moment a clause ends, then each sentence as soon as it ends', () => {
    expect(stream('You said: hello there. That is an interesting point. Tell me more about it.')).toEqual([
      { piece: 'You said:', after: ':' },
      { piece: 'hello there. That is an interesting point.', after: ' Tell' },
      { piece: 'Tell me more about it.', after: '<end>' },
    ]);
  });

  it('releases the first piece after four words when no clause ends sooner', () => {
    const [first] = stream('The weather in Paris is sunny and warm today.');
    expect(first).toEqual({ piece: 'The weather in Paris', after: ' is' });
  });

  it('does not cut inside numbers, times, addresses or abbreviations', () => {
    const pieces = stream('Sure! Mr. Smith paid 3,000 dollars at 10:30 on example.com today. Then he went home.');
    expect(pieces.map((p) => p.piece)).toEqual([
      'Sure!',
      'Mr. Smith paid 3,000 dollars at 10:30 on example.com today.',
      'Then he went home.',
    ]);
  });

  it('joins a later sentence too short to stand alone to the next one', () => {
    const pieces = stream('Hello, friend. Yes. No. I think that is a good idea overall. Bye now.');
    expect(pieces.map((p) => p.piece)).toEqual([
      'Hello,',
      'friend. Yes. No. I think that is a good idea overall.',
      'Bye now.',
    ]);
    for (const p of pieces.slice(1, -1)) expect(p.piece.length).toBeGreaterThanOrEqual(20);
  });

  it('starts a new first piece after a flush', () => {
    const c = new TextChunker();
    expect(c.push('One sentence that is long enough. And the rest')).toEqual(['One sentence that is']);
    expect(c.flush()).toEqual(['long enough. And the rest']);
    expect(c.push('Again, ')).toEqual(['Again,']);
  });
});

describe('ClauseFirstTokenizer', () => {
  it('is a sentence tokenizer, so the plugin flushes every piece in auto mode', () => {
    expect(new ClauseFirstTokenizer()).toBeInstanceOf(tokenize.SentenceTokenizer);
  });

  it('streams pieces as they complete and the rest at end of input', async () => {
    const s = new ClauseFirstTokenizer().stream();
    s.pushText('Okay, ');
    s.pushText('here is the plan. It has two steps. ');
    s.pushText('Go');
    s.endInput();
    const tokens: string[] = [];
    for await (const t of s) tokens.push(t.token);
    expect(tokens).toEqual(['Okay,', 'here is the plan. It has two steps.', 'Go']);
    expect(new ClauseFirstTokenizer().tokenize('Well, that works. Fine.')).toEqual(['Well,', 'that works. Fine.']);
  });
});
