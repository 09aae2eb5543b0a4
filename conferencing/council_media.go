package conferencing

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The council session's hold on the room's media. The session calls these after recording the
// President's decision (RecordingStarted/Stopped, SetPublic) in its record; they switch the SFU
// recorder and the public stream. Called without room.mu held.

// councilRecording starts (on) or stops the recording of the room's tracks. Each recording goes
// to its own directory next to the record (<record>-rec<N>/); when it stops, every file and the
// manifest enter the record with their SHA-256, which is what makes them verifiable later.
func (r *room) councilRecording(cl *councilLive, on bool) error {
	if on {
		r.mu.Lock()
		cl.recordings++
		n := cl.recordings
		r.mu.Unlock()
		dir := r.s.councilPath(fmt.Sprintf("%s-rec%d", strings.TrimSuffix(cl.file, filepath.Ext(cl.file)), n))
		if err := r.media.StartRecording(dir); err != nil {
			return fmt.Errorf("start recording: %w", err)
		}
		return nil
	}
	rec, err := r.media.StopRecording()
	for _, f := range rec.Files {
		name, relErr := filepath.Rel(r.s.cfg.CouncilDir, f.Path)
		if relErr != nil {
			name = f.Name
		}
		if e := cl.sess.RecordingFile(name, f.SHA256, f.Size); e != nil {
			r.log.Error("council: record a recording file", "file", name, "err", e)
		}
	}
	if err != nil {
		return fmt.Errorf("stop recording: %w", err)
	}
	return nil
}

// councilPublic turns the public stream on (a public session) or off (a closed one). The switch
// itself is in the record already (public_changed); the log says how many citizens were cut.
func (r *room) councilPublic(on bool) {
	if cut := r.setPublicStream(on); cut > 0 {
		r.log.Info("public stream closed", "viewers_cut", cut)
	}
}
