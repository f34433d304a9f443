/** The room's audio output for the session (RoomIO), from the worker's room audio settings. */
import type { voice } from '@livekit/agents';
import { TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import type { RoomAudioSettings } from './speech-settings.ts';

export function roomOutputOptions(s: RoomAudioSettings): Partial<voice.RoomOutputOptions> {
  return {
    queueSizeMs: s.queueMs,
    // The framework's own default publishes as a microphone; only the encoding options differ.
    audioPublishOptions: new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE, dtx: s.dtx, red: s.red }),
  };
}
