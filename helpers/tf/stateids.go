package tf

import (
	"context"

	tfjson "github.com/hashicorp/terraform-json"
)

// StateIDs are the ids (the "id" attribute) of every resource the state
// holds, in the root module and its children: what a destroy will delete.
func (e *Exec) StateIDs(ctx context.Context) (map[string]bool, error) {
	var st *tfjson.State
	if err := e.run("show", func() (err error) { st, err = e.tf.Show(ctx); return err }); err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	if st == nil || st.Values == nil {
		return ids, nil
	}
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			if id, ok := r.AttributeValues["id"].(string); ok && id != "" {
				ids[id] = true
			}
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	return ids, nil
}
