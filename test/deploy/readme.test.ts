/**
 * docs/deploy.md, "Deploy and join", is run by people, not by CI: check what can be checked here.
 * The project's own commands must parse; the SIP request files must be what LiveKit's API accepts; the
 * `lk` subcommands and flags must exist (as read in livekit/livekit-cli, cmd/lk/agent.go and sip.go).
 */
import { SIPDispatchRuleInfo, SIPInboundTrunkInfo } from 'livekit-server-sdk';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokenArgs } from '../../src/cli/token.ts';
import { projectRoot } from '../helpers/run.ts';

const section = readFileSync(join(projectRoot, 'docs/deploy.md'), 'utf8');
const blocks = (lang: string) =>
  [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
/** Shell commands of the sh blocks, continuation lines joined, comments dropped. */
const commands = blocks('sh')
  .flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'))
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter((l) => l !== '');
const scripts = (
  JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** `lk` commands the page may use, with their flags. */
const lkCommands: Record<string, string[]> = {
  'cloud auth': [],
  'project list': [],
  'project set-default': [],
  'agent create': ['secrets-file', 'ignore-empty-secrets', 'secrets', 'region'],
  'agent deploy': ['secrets-file', 'ignore-empty-secrets', 'secrets'],
  'agent status': [],
  'agent logs': ['log-type'],
  'agent update-secrets': ['secrets-file', 'ignore-empty-secrets', 'secrets', 'overwrite'],
  'agent versions': [],
  'agent rollback': ['version'],
  'agent restart': [],
  'sip inbound create': [],
  'sip inbound list': [],
  'sip dispatch create': [],
  'sip dispatch list': [],
};

describe('docs/deploy.md: Deploy and join', () => {
  it('exists, with commands to check', () => {
    expect(section).toMatch(/^# Deploy and join$/m);
    expect(commands.length).toBeGreaterThan(10);
  });

  it("uses only the project's own scripts, and token invocations that parse", () => {
    const npmRuns = commands.flatMap((c) => [...c.matchAll(/\bnpm run (\S+)/g)].map((m) => m[1]!));
    expect(npmRuns.filter((s) => !(s in scripts))).toEqual([]);
    const tokens = commands.filter((c) => c.startsWith('npm run token -- '));
    expect(tokens.length).toBeGreaterThan(1);
    for (const t of tokens) {
      const argv = [...t.slice('npm run token -- '.length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
      expect(() => parseTokenArgs(argv), t).not.toThrow();
    }
  });

  it('names only lk subcommands and flags that exist', () => {
    const lk = commands.filter((c) => c.startsWith('lk '));
    expect(lk.length).toBeGreaterThan(8);
    for (const c of lk) {
      const words = c.split(/\s+/).slice(1);
      const name = Object.keys(lkCommands).find((k) => words.slice(0, k.split(' ').length).join(' ') === k);
      expect(name, c).toBeDefined();
      const flags = words.filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=')[0]!);
      expect(
        flags.filter((f) => !lkCommands[name!]!.includes(f)),
        c,
      ).toEqual([]);
    }
  });

  it('gives SIP request files that LiveKit accepts, dispatching the agent into a room per call', () => {
    const json = blocks('json').map((b) => JSON.parse(b) as Record<string, unknown>);
    const trunk = json.find((j) => 'trunk' in j);
    const rule = json.find((j) => 'dispatch_rule' in j);
    expect(Object.keys(trunk ?? {})).toEqual(['trunk']);
    expect(Object.keys(rule ?? {})).toEqual(['dispatch_rule']);
    // fromJson rejects unknown fields: a misspelt key fails here, not at the lk command.
    expect(SIPInboundTrunkInfo.fromJson(trunk!.trunk as never).numbers.length).toBeGreaterThan(0);
    const info = SIPDispatchRuleInfo.fromJson(rule!.dispatch_rule as never);
    expect(info.rule?.rule.case).toBe('dispatchRuleIndividual');
    expect(info.roomConfig?.agents.map((a) => a.agentName)).toEqual(['voice-agent']);
  });
});
