import type * as vscode from 'vscode';
import type { SaveFileParams, SaveFileResult } from '../../protocol/common';
import type { Tracking } from '../../core/tracking/tracking';

/** What a panel needs from the extension, passed in by the PanelManager. */
export interface PanelServices {
  extensionUri: vscode.Uri;
  /** The engine once open (undefined in the first moments after activation). */
  tracking: () => Tracking | undefined;
  /** Resolves when the engine is open. */
  ready: Promise<Tracking>;
  log: (line: string) => void;
  /** Opens (or re-targets) the comparison panel. */
  compare: (runIds: string[]) => Promise<unknown>;
  /** Asks where to save, then writes the file. */
  saveFile: (params: SaveFileParams) => Promise<SaveFileResult>;
}
