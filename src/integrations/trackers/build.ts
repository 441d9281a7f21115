import type { TrackerName } from '../../domain/issue-trackers.js';
import type { TrackersConfig } from '../../config.js';
import type { PeerOptions } from '../outbound/peer.js';
import { JiraTracker } from './jira.js';
import { LinearTracker } from './linear.js';
import type { Tracker } from './port.js';

/** The trackers whose credentials are set, by name. */
export function buildTrackers(config: TrackersConfig, retry: Partial<PeerOptions> = {}): Map<TrackerName, Tracker> {
  const trackers = new Map<TrackerName, Tracker>();
  if (config.linear) trackers.set('linear', new LinearTracker(config.linear, retry));
  if (config.jira) trackers.set('jira', new JiraTracker(config.jira, retry));
  return trackers;
}
