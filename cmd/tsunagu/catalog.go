package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// catalogCommand dispatches `tsunagu catalog <subcommand>`.
func catalogCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(os.Stderr, "usage: tsunagu catalog import FILE [--aws] [--table NAME]")
		return errUsage
	}
	return importCatalog(ctx, args[1:])
}

// importCatalog loads products from a CSV or JSON file into the store: sku,
// name, category, brand, price (minor units of the shop currency), url,
// image_url, in_stock. Every row is checked first; nothing is written when
// any row is bad.
func importCatalog(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("catalog import", flag.ContinueOnError)
	rulesDir := fs.String("rules", "rules", "rule directory (for the shop currency)")
	var data dataFlags
	data.register(fs)
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		args = append(args[1:], args[0])
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(fs.Output(), "usage: tsunagu catalog import FILE [--aws] [--table NAME]")
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	products, err := readCatalogFile(fs.Arg(0), set)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	if err := st.ImportCatalog(ctx, products, time.Now()); err != nil {
		return fmt.Errorf("import into %s: %w", data.where(), err)
	}
	inStock := 0
	for _, p := range products {
		if p.InStock {
			inStock++
		}
	}
	fmt.Fprintf(stdout, "imported %d products (%d in stock) into %s\n", len(products), inStock, data.where())
	return nil
}

// catalogRow is one product as the file writes it.
type catalogRow struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Brand    string `json:"brand"`
	Price    *int64 `json:"price"`
	URL      string `json:"url"`
	ImageURL string `json:"image_url"`
	InStock  *bool  `json:"in_stock"`
}

// readCatalogFile parses a .csv (with a header row) or .json (an array)
// catalog, reporting every bad product at once ("product 3" is the third
// product: line 4 of a CSV file).
func readCatalogFile(path string, set *rules.Set) ([]store.Product, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []catalogRow
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of products: %w", path, err)
		}
	case ".csv":
		if rows, err = parseCatalogCSV(string(raw)); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("%s: a catalog is a .csv or .json file", path)
	}
	var problems []string
	var out []store.Product
	seen := map[string]int{}
	for i, r := range rows {
		n := i + 1
		bad := func(format string, a ...any) {
			problems = append(problems, fmt.Sprintf("%s: product %d: %s", path, n, fmt.Sprintf(format, a...)))
		}
		switch {
		case r.SKU == "":
			bad("sku is required")
		case seen[r.SKU] > 0:
			bad("sku %q repeats product %d", r.SKU, seen[r.SKU])
		}
		seen[r.SKU] = n
		if r.Name == "" {
			bad("name is required")
		}
		if r.Price == nil || *r.Price < 0 {
			bad("price is required, in minor units of %s, 0 or more", set.Settings.Shop.Currency)
		}
		if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("url %q is not an absolute http(s) URL", r.URL)
		}
		if r.ImageURL != "" {
			if u, err := url.Parse(r.ImageURL); err != nil || u.Scheme != "https" && u.Scheme != "http" {
				bad("image_url %q is not an absolute http(s) URL", r.ImageURL)
			}
		}
		if r.InStock == nil {
			bad("in_stock is required (true or false)")
		}
		if r.Price != nil && r.InStock != nil {
			out = append(out, store.Product{SKU: r.SKU, Name: r.Name, Category: r.Category, Brand: r.Brand, Price: *r.Price,
				Currency: set.Settings.Shop.Currency, URL: r.URL, ImageURL: r.ImageURL, InStock: *r.InStock})
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no products", path)
	}
	return out, nil
}

// catalogColumns are the CSV columns, in any order, header names as here.
var catalogColumns = []string{"sku", "name", "category", "brand", "price", "url", "image_url", "in_stock"}

func parseCatalogCSV(text string) ([]catalogRow, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff"))) // Excel's BOM
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, c := range catalogColumns {
		if _, ok := col[c]; !ok && c != "category" && c != "brand" && c != "image_url" {
			return nil, fmt.Errorf("header lacks the column %q (columns: %s)", c, strings.Join(catalogColumns, ","))
		}
	}
	var rows []catalogRow
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := catalogRow{SKU: get("sku"), Name: get("name"), Category: get("category"), Brand: get("brand"), URL: get("url"), ImageURL: get("image_url")}
		if p, err := strconv.ParseInt(get("price"), 10, 64); err == nil {
			row.Price = &p
		}
		if b, err := strconv.ParseBool(get("in_stock")); err == nil {
			row.InStock = &b
		}
		rows = append(rows, row)
	}
}
