import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/run.ts';
import { parseYaml, type YamlValue } from './mini-yaml.ts';

/**
 * The keys this file may use, as spelled by livekit-server's config structs (pkg/config/config.go,
 * mediatransportutil rtcconfig, protocol logger). The server decodes its config strictly, so a
 * misspelt key stops it at start: catch that here.
 */
const knownKeys: Record<string, readonly string[]> = {
  '': ['port', 'bind_addresses', 'rtc', 'keys', 'logging', 'room'],
  rtc: ['tcp_port', 'udp_port', 'port_range_start', 'port_range_end', 'use_external_ip', 'node_ip'],
  logging: ['level', 'json', 'pion_level'],
  room: ['auto_create', 'empty_timeout', 'departure_timeout', 'max_participants'],
};

type YamlMap = { [key: string]: YamlValue };
const isMap = (v: YamlValue | undefined): v is YamlMap => typeof v === 'object' && v !== null && !Array.isArray(v);

const config = parseYaml(readFileSync(join(projectRoot, 'livekit.yaml'), 'utf8'));
const env = parseEnv(readFileSync(join(projectRoot, '.env.example'), 'utf8'));

describe('livekit.yaml', () => {
  it('uses only keys livekit-server knows', () => {
    expect(isMap(config)).toBe(true);
    const root = config as YamlMap;
    expect(Object.keys(root).filter((k) => !knownKeys['']!.includes(k))).toEqual([]);
    for (const section of ['rtc', 'logging', 'room']) {
      const value = root[section];
      expect(isMap(value), section).toBe(true);
      expect(
        Object.keys(value as YamlMap).filter((k) => !knownKeys[section]!.includes(k)),
        section,
      ).toEqual([]);
    }
    expect(isMap(root.keys)).toBe(true);
  });

  it('serves LIVEKIT_URL from .env.example, with its key and secret', () => {
    const root = config as YamlMap;
    const url = new URL(env.LIVEKIT_URL!);
    expect(url.protocol).toBe('ws:');
    expect(root.port).toBe(Number(url.port));
    expect(root.bind_addresses).toContain(url.hostname);
    const keys = root.keys as YamlMap;
    expect(Object.keys(keys)).toEqual([env.LIVEKIT_API_KEY]);
    expect(keys[env.LIVEKIT_API_KEY!]).toBe(env.LIVEKIT_API_SECRET);
    // livekit-server 1.13.5 starts with a shorter secret but logs "secret is too short" (it does
    // not refuse it); the room tier runs the real server on this file (test/rooms/local-setup.test.ts).
    expect(String(keys[env.LIVEKIT_API_KEY!]).length).toBeGreaterThanOrEqual(32);
  });

  it('defines the WebRTC ports and needs no STUN lookup', () => {
    const rtc = (config as YamlMap).rtc as YamlMap;
    expect(rtc.tcp_port).toBe(7881);
    const udp = rtc.udp_port ?? rtc.port_range_start;
    expect(typeof udp).toBe('number');
    expect(rtc.use_external_ip).toBe(false);
    expect(((config as YamlMap).logging as YamlMap).level).toMatch(/^(debug|info|warn|error)$/);
  });
});

describe('the YAML reader', () => {
  it('reads nested maps, lists, scalars and comments', () => {
    expect(
      parseYaml('a: 1 # one\nb:\n  c: "x # y"\n  d:\n    - p\n    - \'q\'\ne: false\nf: -2\ng: ws://h:1\n'),
    ).toEqual({ a: 1, b: { c: 'x # y', d: ['p', 'q'] }, e: false, f: -2, g: 'ws://h:1' });
  });

  it('refuses what it does not understand instead of misreading it', () => {
    for (const bad of ['a: {b: 1}', 'a: [1]', 'a: 1\na: 2', 'a:\n  b: 1\n c: 2', 'a: &x 1', '\ta: 1', 'a: |', 'a\n']) {
      expect(() => parseYaml(bad), bad).toThrow();
    }
  });
});
