"""Regenerates the PDF fixtures in this folder (run from this folder).

    python3 -m venv ~/.cache/quarry/venv-ingest
    ~/.cache/quarry/venv-ingest/bin/pip install fpdf2==2.8.9
    ~/.cache/quarry/venv-ingest/bin/python gen_pdfs.py

Outputs are committed; the Go tests only read them.
"""
import datetime
import warnings

from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image, ImageDraw


def base(title=None):
    pdf = FPDF(unit="pt", format="A5")
    pdf.set_compression(True)
    # A fixed date keeps the output byte-for-byte reproducible.
    pdf.set_creation_date(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    if title:
        pdf.set_title(title)
    return pdf


def text_pdf():
    pdf = base("Sample Report")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(text="Sample Report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 14, "The quick brown fox jumps over the lazy dog. "
                   "Retrieval augmented generation needs clean text.")
    pdf.ln(20)
    pdf.multi_cell(0, 14, "A second paragraph on the first page.")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 14, "Page two talks about BM25 and dense vectors.")
    pdf.output("text.pdf")


def unicode_pdf():
    pdf = base()
    pdf.add_page()
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=12)
    pdf.multi_cell(0, 16, "Grüße aus Köln — naïve café.")
    pdf.output("unicode.pdf")


def encrypted_pdf():
    pdf = base("Secret")
    pdf.set_encryption(owner_password="owner", user_password="user",
                       encryption_method=EncryptionMethod.RC4)
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="This text is behind a password.")
    pdf.output("encrypted.pdf")


def image_pdf():
    img = Image.new("L", (120, 40), 255)
    d = ImageDraw.Draw(img)
    d.rectangle([10, 10, 110, 30], outline=0)
    d.text((20, 14), "scanned", fill=0)
    pdf = base()
    pdf.add_page()
    pdf.image(img, x=20, y=20, w=240)
    pdf.output("image_only.pdf")


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    text_pdf()
    unicode_pdf()
    encrypted_pdf()
    image_pdf()
