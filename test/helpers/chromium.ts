/**
 * Debian's Chromium for the room tier, driven by playwright-core: a fake microphone that plays a
 * WAV file once, and no outside connection of its own. The join-page tests share it.
 */
import { writeFile } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';
const rate = 16_000;

/** 16-bit mono PCM WAV at 16 kHz: Chromium's fake capture device reads only files. */
export function wav(samples: Int16Array): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples.byteLength, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples.byteLength, 40);
  return Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]);
}

/** Chromium whose microphone plays `samples` (16 kHz) once, from the moment capture opens. */
export async function launchWithMicrophone(micPath: string, samples: Int16Array): Promise<Browser> {
  await writeFile(micPath, wav(samples));
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // This machine refuses every outside connection: Chromium must not try any.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micPath}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
