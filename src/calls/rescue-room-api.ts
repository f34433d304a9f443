/** What the call rescue asks of LiveKit's server API, and its implementation over livekit-server-sdk. */
import { AgentDispatchClient, RoomServiceClient, ServerError } from 'livekit-server-sdk';

export interface RescueRoomApi {
  /** The identities of the room's participants; none for a room that is gone. */
  participants(room: string): Promise<string[]>;
  removeParticipant(room: string, identity: string): Promise<void>;
  /** The metadata of the room's agent dispatches. */
  dispatchMetadata(room: string): Promise<string[]>;
  /** Creates an agent dispatch; resolves with its id. */
  dispatch(room: string, agentName: string, metadata: string): Promise<string>;
}

/** The server API's http(s) address for a ws(s) URL. */
function apiHost(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:');
}

export function livekitRoomApi(livekit: { url: string; apiKey: string; apiSecret: string }): RescueRoomApi {
  const { url, apiKey, apiSecret } = livekit;
  const rooms = new RoomServiceClient(apiHost(url), apiKey, apiSecret);
  const dispatches = new AgentDispatchClient(apiHost(url), apiKey, apiSecret);
  return {
    participants: async (room) => {
      try {
        return (await rooms.listParticipants(room)).map((p) => p.identity);
      } catch (err) {
        // The room closed (everyone left): nobody to rescue. Any other failure is the caller's to retry.
        if (err instanceof ServerError && (err.code === 'not_found' || err.status === 404)) return [];
        throw err;
      }
    },
    removeParticipant: (room, identity) => rooms.removeParticipant(room, identity),
    dispatchMetadata: async (room) => (await dispatches.listDispatch(room)).map((d) => d.metadata),
    dispatch: async (room, agentName, metadata) => (await dispatches.createDispatch(room, agentName, { metadata })).id,
  };
}
