// What this browser sends: the camera as three simulcast layers (the media server forwards each receiver the one
// that fits its tile), each with three temporal layers where the browser can; a shared screen as one sharp layer.

/** One encoding of a sender, as RTCRtpSender's parameters hold it. */
export interface SendEncoding {
  rid?: string;
  active?: boolean;
  scaleResolutionDownBy?: number;
  maxBitrate?: number;
  scalabilityMode?: string;
}

export interface SendParameters {
  encodings: SendEncoding[];
  degradationPreference?: string;
}

/** The codecs RTCRtpSender.getCapabilities("video") lists (scalabilityModes only where the browser says). */
export interface VideoCapabilities {
  codecs: ReadonlyArray<{ mimeType: string; scalabilityModes?: readonly string[] }>;
}

/**
 * What the camera is asked for. Chromium sends only as many simulcast layers as the captured size allows: at
 * 640×360 it sent q and h but nothing of f; at 1280×720 all three (320×180, 640×360, 1280×720).
 */
export const cameraCapture = { width: { ideal: 1280 }, height: { ideal: 720 } } as const;

/** Three temporal layers in one spatial layer: receivers on a weak link can be sent a lower frame rate. */
export const temporalLayers = "L1T3";

/** The camera's layers, lowest first: quarter, half and full resolution (rid q, h, f). */
export const cameraLayers: readonly SendEncoding[] = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** A shared screen: one layer, enough bits for text to stay readable. */
export const screenEncoding: SendEncoding = { maxBitrate: 2_500_000 };

/**
 * Whether to ask for temporal layers. A browser that lists its codecs' scalability modes is taken at its word;
 * one that lists none (Chromium 156 lists none, yet supports L1T3 for VP8) is asked anyway: addTransceiver throws
 * for a mode it cannot encode, and the camera is then added without one (`cameraEncodingChoices`).
 */
export function mayUseTemporalLayers(capabilities: VideoCapabilities | null | undefined): boolean {
  const vp8 = capabilities?.codecs.find((codec) => codec.mimeType.toLowerCase() === "video/vp8");
  if (!vp8) return capabilities == null;
  return vp8.scalabilityModes === undefined || vp8.scalabilityModes.includes(temporalLayers);
}

/**
 * The camera's sendEncodings to try, in order: simulcast with temporal layers (when they may work), then without.
 * Should the browser refuse both, the camera goes without sendEncodings (its single default layer).
 */
export function cameraEncodingChoices(capabilities: VideoCapabilities | null | undefined): SendEncoding[][] {
  const plain = cameraLayers.map((layer) => ({ ...layer }));
  if (!mayUseTemporalLayers(capabilities)) return [plain];
  return [cameraLayers.map((layer) => ({ ...layer, scalabilityMode: temporalLayers })), plain];
}

/**
 * When the answer refused simulcast the browser keeps only the first (quarter-size) layer: send that one at full
 * size instead. Returns the parameters to set, or null when nothing needs changing.
 */
export function fullSizeIfSingleLayer(parameters: SendParameters): SendParameters | null {
  const [only, ...rest] = parameters.encodings;
  const full = cameraLayers[cameraLayers.length - 1];
  if (!only || rest.length > 0 || only.rid === undefined) return null;
  if (only.scaleResolutionDownBy === full.scaleResolutionDownBy && only.maxBitrate === full.maxBitrate) return null;
  return {
    ...parameters,
    encodings: [{ ...only, scaleResolutionDownBy: full.scaleResolutionDownBy, maxBitrate: full.maxBitrate }],
  };
}

/**
 * The parameters that send only the simulcast layers named in `rids` (each layer with a rid is active exactly when
 * listed; rids we do not send are ignored), or null when nothing changes or there is a single layer (an answer that
 * refused simulcast): that one must keep sending whatever the server says. Chromium 156 accepts every layer
 * inactive, which stops the camera's video until a layer is wanted again.
 */
export function onlyLayers(parameters: SendParameters, rids: readonly string[]): SendParameters | null {
  const layers = parameters.encodings;
  if (layers.length < 2 || layers.some((layer) => layer.rid === undefined)) return null;
  const wanted = layers.map((layer) => rids.includes(layer.rid as string));
  if (layers.every((layer, i) => (layer.active ?? true) === wanted[i])) return null;
  return { ...parameters, encodings: layers.map((layer, i) => ({ ...layer, active: wanted[i] })) };
}
