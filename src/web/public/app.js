// The join page: get a token from this server's /api/token, join the room with livekit-client,
// publish the microphone, play the agent and show what the agent and the caller say.
import { ConnectionState, ParticipantKind, Room, RoomEvent, Track } from '/vendor/livekit-client.esm.mjs';

/** How long after joining an agent must appear before the page says none came. */
const agentWaitMs = 8000;
/** Above this audioLevel (0-1) the agent counts as heard: the greeting reached the page. */
const heardLevel = 0.01;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  problem: $('problem'),
  join: $('join'),
  joinButton: $('join-button'),
  name: $('name'),
  access: $('access'),
  accessCode: $('access-code'),
  call: $('call'),
  agentState: $('agent-state'),
  agentLevel: $('agent-level'),
  mute: $('mute'),
  hangup: $('hangup'),
  reconnect: $('reconnect'),
  transcript: $('transcript'),
  latency: $('latency'),
  latencyChart: $('latency-chart'),
  latencyRows: $('latency-rows'),
  memory: $('memory'),
  memoryStatus: $('memory-status'),
  memoryAbout: $('memory-about'),
  memoryEarlier: $('memory-earlier'),
  memoryEarlierTurns: $('memory-earlier-turns'),
  callerName: $('caller-name'),
  memoryTurns: $('memory-turns'),
  chat: $('chat'),
  chatText: $('chat-text'),
  audio: $('audio'),
  setup: $('setup'),
  standIns: $('stand-ins'),
  simulated: $('simulated'),
  simulatedLines: $('simulated-lines'),
};

const serviceNames = { openai: 'OpenAI', deepgram: 'Deepgram', elevenlabs: 'ElevenLabs', letta: 'Letta' };
/** With the Deepgram stand-in, the caller's lines are its script, not their words. */
let recognitionSimulated = false;

// The identity is the key to what the agent remembers: kept, so the next visit is the same caller.
const identity = localStorage.getItem('joinpage.identity') ?? `caller-${crypto.randomUUID()}`;
localStorage.setItem('joinpage.identity', identity);
ui.name.value = localStorage.getItem('joinpage.name') ?? '';
ui.accessCode.value = sessionStorage.getItem('joinpage.access') ?? '';

let room;
let agentTimer;
let levelTimer;
/** segment id → its line in the transcript. */
const lines = new Map();
/** This call's turn figures, for the chart. */
const turns = [];

/** What the page server says about this setup (npm run local: which services are stand-ins). */
async function showSetup() {
  const setup = await fetch('/api/setup')
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  if (!setup || setup.stand_ins.length === 0) return;
  const names = setup.stand_ins.map((s) => serviceNames[s] ?? s);
  ui.standIns.textContent = `Local stand-ins (no key in .env) for: ${names.join(', ')}. Replies and voices are simulated by them.`;
  recognitionSimulated = setup.simulated_speech.length > 0;
  ui.simulated.hidden = !recognitionSimulated;
  ui.simulatedLines.replaceChildren(
    ...setup.simulated_speech.map((line) => {
      const li = document.createElement('li');
      li.textContent = line;
      return li;
    }),
  );
  ui.setup.hidden = false;
}

function say(text) {
  ui.status.textContent = text;
}

function problem(text) {
  ui.problem.textContent = text;
  ui.problem.hidden = text === '';
}

class HttpRefusal extends Error {}

async function fetchToken() {
  const name = ui.name.value.trim();
  const access = ui.accessCode.value.trim();
  let res;
  try {
    res = await fetch('/api/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(access ? { Authorization: `Bearer ${access}` } : {}) },
      body: JSON.stringify({ participant_identity: identity, ...(name ? { participant_name: name } : {}) }),
    });
  } catch {
    throw new HttpRefusal('The page server cannot be reached. Is npm run web still running?');
  }
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    ui.access.hidden = false;
    throw new HttpRefusal('This server needs an access code (its WEB_AUTH_TOKEN). Enter it and join again.');
  }
  if (!res.ok) throw new HttpRefusal(`The server refused a token: ${body.error ?? res.status}`);
  return body;
}

async function join() {
  problem('');
  ui.joinButton.disabled = true;
  localStorage.setItem('joinpage.name', ui.name.value.trim());
  sessionStorage.setItem('joinpage.access', ui.accessCode.value.trim());
  try {
    say('Getting a token…');
    const { server_url: url, participant_token: token } = await fetchToken();
    room = newRoom();
    say('Connecting…');
    try {
      await room.connect(url, token);
    } catch (err) {
      throw new HttpRefusal(`The LiveKit server at ${url} cannot be reached (${err.message}).`);
    }
    ui.join.hidden = true;
    ui.call.hidden = false;
    // The display name, never the identity (a random key that only keeps the caller's memory).
    const shown = room.localParticipant.name || 'you (no name given)';
    ui.callerName.textContent = shown;
    say(`Connected as ${shown}.`);
    agentTimer = setTimeout(() => {
      if (!agent())
        problem(
          `No agent joined within ${agentWaitMs / 1000} s. Either no worker is running (npm run dev), or every worker is at its limit of calls (WORKER_MAX_CALLS) and turned this one away: its log says "turning calls away".`,
        );
    }, agentWaitMs);
    await publishMicrophone();
  } catch (err) {
    problem(err instanceof HttpRefusal ? err.message : `Could not join: ${err.message}`);
    await leave();
  } finally {
    ui.joinButton.disabled = false;
  }
}

async function publishMicrophone() {
  try {
    await room.localParticipant.setMicrophoneEnabled(true);
  } catch (err) {
    const refused = err.name === 'NotAllowedError' || err.name === 'SecurityError';
    problem(
      refused
        ? 'The microphone was refused. Allow it for this page (the lock icon next to the address), then reconnect. You can still type.'
        : `No microphone: ${err.message}. You can still type.`,
    );
  }
}

function newRoom() {
  const r = new Room();
  r.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
    if (track.kind !== Track.Kind.Audio) return;
    // Chromium only decodes a remote track that an element plays.
    ui.audio.append(track.attach());
    if (participant.kind === ParticipantKind.AGENT) watchLevel(track);
  });
  r.on(RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()));
  r.on(RoomEvent.ParticipantConnected, showAgentState);
  r.on(RoomEvent.ParticipantDisconnected, showAgentState);
  r.on(RoomEvent.ParticipantAttributesChanged, showAgentState);
  r.on(RoomEvent.Disconnected, () => {
    say('Disconnected.');
    ui.agentState.textContent = 'not here';
    ui.agentLevel.dataset.state = 'not-here';
  });
  r.on(RoomEvent.AudioPlaybackStatusChanged, () => {
    if (!r.canPlaybackAudio) problem('The browser blocked sound: press Reconnect or anywhere on the page.');
  });
  r.registerTextStreamHandler('lk.transcription', (reader) => void showTranscription(reader));
  r.registerTextStreamHandler('voice-agent.turn', (reader) => void reader.readAll().then(showTurn, () => undefined));
  r.registerTextStreamHandler(
    'voice-agent.memory',
    (reader) => void reader.readAll().then(showMemory, () => undefined),
  );
  // The agent's session events for front ends that replay them; this page reads none of them.
  r.registerByteStreamHandler('lk.agent.session', (reader) => void reader.readAll().catch(() => undefined));
  return r;
}

function agent() {
  return [...(room?.remoteParticipants.values() ?? [])].find((p) => p.kind === ParticipantKind.AGENT);
}

function showAgentState() {
  const a = agent();
  if (a) clearTimeout(agentTimer);
  const state = a ? (a.attributes['lk.agent.state'] ?? 'joined') : 'not here';
  ui.agentState.textContent = state;
  // The voice bars' colour and motion follow the state (see style.css), as in LiveKit's starters.
  ui.agentLevel.dataset.state = state.replace(' ', '-');
  if (a && ui.problem.textContent.startsWith('No agent')) problem('');
}

/**
 * The agent's audio level from the receiver's own statistics (no Web Audio needed), drawn as five
 * bars: the middle ones tallest, all scaled by the level.
 */
function watchLevel(track) {
  clearInterval(levelTimer);
  const bars = [...ui.agentLevel.children];
  const shape = [0.5, 0.8, 1, 0.8, 0.5];
  levelTimer = setInterval(async () => {
    const stats = await track.receiver?.getStats();
    stats?.forEach((s) => {
      if (s.type !== 'inbound-rtp' || typeof s.audioLevel !== 'number') return;
      // audioLevel is linear amplitude; speech sits around 0.05-0.3, so a square root spreads it out.
      const level = Math.min(1, Math.sqrt(s.audioLevel) * 1.6);
      ui.agentLevel.setAttribute('aria-valuenow', s.audioLevel.toFixed(3));
      bars.forEach((bar, i) => (bar.style.height = `${Math.round(15 + 85 * level * shape[i])}%`));
      if (s.audioLevel > heardLevel) ui.agentLevel.dataset.heard = 'true';
    });
  }, 100);
}

/**
 * The caller's words come as one short stream per interim or final result (each the segment's
 * whole text so far); the agent's as one stream per segment, written as it is spoken, final once
 * its trailer says so. Either way the newest stream's text is the segment's text, and a line is
 * final only when its stream says `lk.transcription_final`, as LiveKit's own components read it.
 */
async function showTranscription(reader) {
  const attrs = reader.info.attributes ?? {};
  const mine = attrs['lk.transcribed_track_id'] === micTrackSid();
  const segment = attrs['lk.segment_id'] ?? reader.info.id;
  const who = mine ? 'user' : 'agent';
  const show = (final) => showLine(segment, who, text, final, { simulated: mine && recognitionSimulated });
  const isFinal = () => (reader.info.attributes ?? {})['lk.transcription_final'] === 'true';
  let text = '';
  try {
    for await (const chunk of reader) {
      text += chunk;
      show(isFinal());
    }
    // The trailer, merged into the stream's attributes at its end, marks a complete agent line.
    show(isFinal());
  } catch {
    // A stream cut off by leaving the room: what arrived stays.
  }
}

function micTrackSid() {
  return room?.localParticipant.getTrackPublication(Track.Source.Microphone)?.trackSid;
}

function showLine(key, who, text, final, { simulated = false } = {}) {
  let li = lines.get(key);
  if (!li) {
    li = document.createElement('li');
    lines.set(key, li);
    ui.transcript.append(li);
  }
  li.className = `${who}${final ? '' : ' interim'}${simulated ? ' simulated' : ''}`;
  if (simulated) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = 'Simulated recognition (not your words):';
    li.replaceChildren(tag, document.createTextNode(text));
  } else {
    li.textContent = text;
  }
  li.scrollIntoView({ block: 'nearest' });
}

/** The figures of one turn (the worker's turn_latency line): a table row and a bar of the chart. */
function showTurn(json) {
  const t = JSON.parse(json);
  const figures = [t.end_of_turn_ms, t.llm_ttft_ms, t.tts_ttfb_ms, t.e2e_ms];
  const row = document.createElement('tr');
  row.dataset.complete = String(figures.every((f) => typeof f === 'number'));
  for (const cell of [t.interrupted ? `${t.turn} (cut off)` : String(t.turn), ...figures]) {
    const td = document.createElement('td');
    td.textContent = cell === null ? '–' : String(cell);
    row.append(td);
  }
  ui.latencyRows.append(row);
  // The reply this turn ended with is the newest agent line: the caller spoke over it.
  if (t.interrupted) {
    const replies = ui.transcript.querySelectorAll('li.agent');
    if (replies.length > 0) replies[replies.length - 1].dataset.interrupted = 'true';
  }
  ui.latency.hidden = false;
  turns.push(t);
  drawChart();
}

const svgNs = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const el = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A round step for the axis: 1, 2 or 5 times a power of ten, about four ticks to the top. */
function tickStep(top) {
  const raw = top / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

/**
 * Each turn a column of its stages stacked (end of turn, LLM first token, TTS first byte, then the
 * rest up to the agent's first audio), with a millisecond axis, the turn numbers under the columns,
 * and a mark at end to end. With preemptive generation the LLM starts before the turn ends, so the
 * stages can add up to more than end to end: the mark shows the real figure.
 */
function drawChart() {
  const box = { left: 40, right: 312, top: 8, bottom: 118 };
  const stagesOf = (t) => {
    const parts = [t.end_of_turn_ms ?? 0, t.llm_ttft_ms ?? 0, t.tts_ttfb_ms ?? 0];
    const sum = parts.reduce((a, b) => a + b, 0);
    return [...parts, Math.max(0, (t.e2e_ms ?? 0) - sum)];
  };
  const highest = Math.max(100, ...turns.map((t) => Math.max(t.e2e_ms ?? 0, ...[stagesOf(t).reduce((a, b) => a + b)])));
  const step = tickStep(highest);
  const top = Math.ceil(highest / step) * step;
  const y = (ms) => box.bottom - (ms / top) * (box.bottom - box.top);
  const slot = (box.right - box.left) / Math.max(turns.length, 8);
  const parts = [];
  for (let v = 0; v <= top; v += step) {
    parts.push(svg('line', { x1: box.left, x2: box.right, y1: y(v), y2: y(v), class: 'grid' }));
    parts.push(svg('text', { x: box.left - 4, y: y(v) + 3, class: 'tick', 'text-anchor': 'end' }, String(v)));
  }
  parts.push(svg('text', { x: 2, y: box.top - 1, class: 'tick' }, 'ms'));
  const classes = ['stage-eot', 'stage-llm', 'stage-tts', 'stage-rest'];
  const names = ['end of turn', 'LLM first token', 'TTS first byte', 'to first audio'];
  turns.forEach((t, i) => {
    const x = box.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const column = svg('g', { class: t.interrupted ? 'turn interrupted' : 'turn', 'data-turn': t.turn });
    let base = 0;
    stagesOf(t).forEach((ms, k) => {
      if (ms <= 0) return;
      const rect = svg('rect', { x, y: y(base + ms), width: w, height: y(base) - y(base + ms), class: classes[k] });
      rect.append(svg('title', {}, `turn ${t.turn}: ${names[k]} ${ms} ms`));
      column.append(rect);
      base += ms;
    });
    if (typeof t.e2e_ms === 'number') {
      const mark = svg('line', { x1: x - 2, x2: x + w + 2, y1: y(t.e2e_ms), y2: y(t.e2e_ms), class: 'e2e' });
      mark.append(svg('title', {}, `turn ${t.turn}: ${t.e2e_ms} ms end to end`));
      column.append(mark);
    }
    column.append(svg('text', { x: x + w / 2, y: box.bottom + 12, class: 'tick', 'text-anchor': 'middle' }, t.turn));
    parts.push(column);
  });
  parts.push(svg('line', { x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom, class: 'axis' }));
  parts.push(svg('line', { x1: box.left, x2: box.left, y1: box.top, y2: box.bottom, class: 'axis' }));
  parts.push(svg('text', { x: (box.left + box.right) / 2, y: 139, class: 'tick', 'text-anchor': 'middle' }, 'turn'));
  ui.latencyChart.replaceChildren(...parts);
}

const readStatus = {
  'in-time': 'Read before the greeting.',
  late: 'Read late: used from the turn after it arrived.',
  failed: 'Could not be read: this call goes on without it.',
};

/**
 * The worker's memory messages: at the start, the memory section it put in the prompt; then each
 * of this caller's turns as it is journaled (durable) and acknowledged by Letta, with its lag.
 */
function showMemory(json) {
  const m = JSON.parse(json);
  ui.memory.hidden = false;
  if (m.kind === 'start') {
    const known = m.about_you || m.earlier_turns.length > 0;
    ui.memoryStatus.textContent = `${readStatus[m.status] ?? m.status}${known ? '' : ' Nothing about you yet.'}`;
    ui.memoryAbout.textContent = m.about_you ?? '';
    ui.memoryEarlierTurns.replaceChildren(
      ...m.earlier_turns.map((t) => {
        const li = document.createElement('li');
        li.textContent = `You: ${t.caller} — Agent: ${t.agent}`;
        return li;
      }),
    );
    ui.memoryEarlier.hidden = m.earlier_turns.length === 0;
    return;
  }
  const ids = m.kind === 'journaled' ? [m.turn_id] : m.turn_ids;
  ids.forEach((id, i) => {
    let li = ui.memoryTurns.querySelector(`[data-turn="${CSS.escape(id)}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.turn = id;
      ui.memoryTurns.append(li);
    }
    const n = [...ui.memoryTurns.children].indexOf(li) + 1;
    li.dataset.state = m.kind;
    li.textContent =
      m.kind === 'journaled'
        ? `Turn ${n}: journaled, on its way to Letta`
        : `Turn ${n}: in Letta after ${m.lag_ms[i]} ms`;
  });
}

async function leave() {
  clearTimeout(agentTimer);
  clearInterval(levelTimer);
  await room?.disconnect();
  room = undefined;
  turns.length = 0;
  ui.latencyRows.replaceChildren();
  ui.latencyChart.replaceChildren();
  ui.latency.hidden = true;
  ui.memory.hidden = true;
  ui.memoryTurns.replaceChildren();
  ui.memoryAbout.textContent = '';
  ui.memoryEarlierTurns.replaceChildren();
  ui.memoryEarlier.hidden = true;
  ui.audio.replaceChildren();
  ui.mute.setAttribute('aria-pressed', 'false');
  ui.mute.textContent = 'Mute';
  ui.call.hidden = true;
  ui.join.hidden = false;
}

ui.join.addEventListener('submit', (e) => {
  e.preventDefault();
  void join();
});

ui.mute.addEventListener('click', async () => {
  const muted = ui.mute.getAttribute('aria-pressed') === 'true';
  await room?.localParticipant.setMicrophoneEnabled(muted);
  ui.mute.setAttribute('aria-pressed', String(!muted));
  ui.mute.textContent = muted ? 'Mute' : 'Unmute';
});

ui.hangup.addEventListener('click', async () => {
  await leave();
  say('Call ended.');
});

// A fresh call: the worker is dispatched when a room is created, and the identity keeps the memory.
ui.reconnect.addEventListener('click', async () => {
  await leave();
  await join();
});

ui.chat.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = ui.chatText.value.trim();
  if (!text || room?.state !== ConnectionState.Connected) return;
  ui.chatText.value = '';
  showLine(`chat-${crypto.randomUUID()}`, 'user', text, true);
  await room.localParticipant.sendText(text, { topic: 'lk.chat' });
});

document.addEventListener('click', () => void room?.startAudio());

void showSetup();
