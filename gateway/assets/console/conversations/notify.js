// Tells the agent about new work as their profile asks: a short sound and/or a desktop
// notification (only while the console is in the background) when a conversation is assigned
// to them, a customer writes in one of theirs, or another agent mentions them in a note.

import { store } from "../store.js";

/** @type {AudioContext|null} */
let audio = null;

function beep() {
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch { /* no audio output, or not allowed before a user gesture */ }
}

/**
 * @param {"assignment"|"message"|"mention"} kind
 * @param {string} title
 * @param {string} body
 */
export function notify(kind, title, body) {
  const prefs = store.get("me")?.notifications;
  if (!prefs) return;
  const wanted = { assignment: prefs.new_assignment, message: prefs.new_message, mention: prefs.mention };
  if (!wanted[kind]) return;
  if (prefs.sound) beep();
  if (prefs.desktop && document.visibilityState !== "visible" && "Notification" in window && Notification.permission === "granted") {
    try { new Notification(title, { body, tag: `kefu-${kind}` }); } catch { /* not allowed here */ }
  }
}

/** Asks for permission to show desktop notifications (call from a user action). */
export async function askDesktopPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  try { await Notification.requestPermission(); } catch { /* the browser said no */ }
}
