package service

import "slices"

// cloudQueue lets one scenario run at a time on a cloud, in the order the
// runs were submitted: a run queued first starts first, whatever the
// goroutines' scheduling (a channel's waiting senders promise no order).
type cloudQueue struct {
	holder  *job   // the scenario running now; nil: none
	waiting []*job // queued, oldest first
}

// enqueue gives j the cloud's turn at once if nobody holds it, else puts it
// last in line. Called with s.mu held, at submission.
func (s *Service) enqueue(j *job) {
	q, ok := s.queues[j.run.Cloud]
	if !ok {
		q = &cloudQueue{}
		s.queues[j.run.Cloud] = q
	}
	j.turn = make(chan struct{})
	if q.holder == nil {
		q.holder = j
		close(j.turn)
		return
	}
	q.waiting = append(q.waiting, j)
}

// dequeue takes j out of its cloud's queue: a waiting j leaves its place; the
// holder passes the turn to the oldest waiting run.
func (s *Service) dequeue(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[j.run.Cloud]
	if q == nil {
		return
	}
	if q.holder != j {
		q.waiting = slices.DeleteFunc(q.waiting, func(w *job) bool { return w == j })
		return
	}
	q.holder = nil
	if len(q.waiting) > 0 {
		q.holder, q.waiting = q.waiting[0], q.waiting[1:]
		close(q.holder.turn)
	}
	if q.holder == nil {
		delete(s.queues, j.run.Cloud)
	}
}
