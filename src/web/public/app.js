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
  memorySection: $('memory-section'),
  memoryTurns: $('memory-turns'),
  chat: $('chat'),
  chatText: $('chat-text'),
  audio: $('audio'),
};

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
    say(`Connected as ${identity}.`);
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
  ui.agentState.textContent = a ? (a.attributes['lk.agent.state'] ?? 'joined') : 'not here';
  if (a && ui.problem.textContent.startsWith('No agent')) problem('');
}

/** The agent's audio level from the receiver's own statistics (no Web Audio needed). */
function watchLevel(track) {
  clearInterval(levelTimer);
  levelTimer = setInterval(async () => {
    const stats = await track.receiver?.getStats();
    stats?.forEach((s) => {
      if (s.type !== 'inbound-rtp' || typeof s.audioLevel !== 'number') return;
      ui.agentLevel.value = s.audioLevel;
      if (s.audioLevel > heardLevel) ui.agentLevel.dataset.heard = 'true';
    });
  }, 200);
}

/**
 * The caller's words come as one short stream per interim or final result (each the segment's
 * whole text so far); the agent's as one stream per segment, written as it is spoken. Either way
 * the newest stream's text is the segment's text.
 */
async function showTranscription(reader) {
  const attrs = reader.info.attributes ?? {};
  const mine = attrs['lk.transcribed_track_id'] === micTrackSid();
  const segment = attrs['lk.segment_id'] ?? reader.info.id;
  let text = '';
  try {
    for await (const chunk of reader) {
      text += chunk;
      showLine(segment, mine ? 'user' : 'agent', text, !mine || attrs['lk.transcription_final'] === 'true');
    }
  } catch {
    // A stream cut off by leaving the room: what arrived stays.
  }
}

function micTrackSid() {
  return room?.localParticipant.getTrackPublication(Track.Source.Microphone)?.trackSid;
}

function showLine(key, who, text, final) {
  let li = lines.get(key);
  if (!li) {
    li = document.createElement('li');
    lines.set(key, li);
    ui.transcript.append(li);
  }
  li.className = `${who}${final ? '' : ' interim'}`;
  li.textContent = text;
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

/** End to end per turn, as bars scaled to the slowest turn so far. */
function drawChart() {
  const ns = 'http://www.w3.org/2000/svg';
  const slowest = Math.max(1, ...turns.map((t) => t.e2e_ms ?? 0));
  const width = 300 / Math.max(turns.length, 10);
  ui.latencyChart.replaceChildren(
    ...turns.map((t, i) => {
      const bar = document.createElementNS(ns, 'rect');
      const h = ((t.e2e_ms ?? 0) / slowest) * 58;
      bar.setAttribute('x', String(i * width + 1));
      bar.setAttribute('y', String(60 - h));
      bar.setAttribute('width', String(width - 2));
      bar.setAttribute('height', String(h));
      if (t.interrupted) bar.setAttribute('class', 'interrupted');
      const title = document.createElementNS(ns, 'title');
      title.textContent = `turn ${t.turn}: ${t.e2e_ms ?? '–'} ms end to end`;
      bar.append(title);
      return bar;
    }),
  );
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
    ui.memoryStatus.textContent = `${readStatus[m.status] ?? m.status}${m.section ? '' : ' Nothing yet.'}`;
    ui.memorySection.textContent = m.section ?? '';
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
