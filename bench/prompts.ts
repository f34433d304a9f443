/** What the simulated caller says in the text scenarios: short, spoken-style questions, the same for every path. */

export const prompts: readonly string[] = [
  'Hi, can you hear me all right?',
  'What is the weather usually like in Paris in spring?',
  'My name is Alice and I love hiking in the mountains.',
  'Can you suggest a short walk near the lake this weekend?',
  'How long does it take to boil an egg?',
  'Remind me what we talked about last time.',
  'I need to buy a present for my brother, any ideas?',
  'He likes cooking and old science fiction films.',
  'What is a good film to watch tonight?',
  'How do I say thank you in Japanese?',
  'Tell me a very short story about a dragon.',
  'What time is it in Tokyo when it is noon in London?',
  'Can you help me plan a dinner for four people?',
  'One of them is vegetarian, does that change anything?',
  'What should I bring to a picnic?',
  'How far is the moon from the earth?',
  'Give me one tip for sleeping better.',
  'What was the first thing I told you today?',
  'Can you repeat that a bit more slowly?',
  'Thanks, that is all for now.',
];

/** The i-th prompt, cycling when a run asks for more turns than there are prompts. */
export function promptAt(i: number): string {
  return prompts[i % prompts.length] as string;
}
