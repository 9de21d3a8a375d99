// Public entry of @switchboard/sip-stack. Named exports only, grouped by layer
// (message → transport → transaction → dialog → proxy | endpoint); each layer owns its block.

// --- util ---
export type { Clock, TimerHandle } from './util/clock.js';
export { systemClock, ManualClock } from './util/clock.js';

// --- message ---

// --- transport ---

// --- transaction ---

// --- dialog ---

// --- auth ---

// --- dns ---

// --- proxy ---

// --- endpoint ---
