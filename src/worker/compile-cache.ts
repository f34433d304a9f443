/**
 * Node's compile cache for the worker's job and inference processes. A job process spends most of
 * its start loading the agents framework and the plugins (thousands of modules); with the cache,
 * V8 reuses the code it compiled in an earlier process instead of compiling it again. Job
 * processes are forked from this one and inherit its environment, so setting the variable here
 * covers every process the pool starts. NODE_DISABLE_COMPILE_CACHE=1 (Node's own) turns it off;
 * NODE_COMPILE_CACHE, if set, names the directory.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function compileCacheForChildren(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_DISABLE_COMPILE_CACHE) return;
  env.NODE_COMPILE_CACHE ||= join(tmpdir(), 'voice-agent-compile-cache');
}
